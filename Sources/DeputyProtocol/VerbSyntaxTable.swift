extension VerbSyntax {
    // Placeholders and value lists shared by several entries, so the synopses stay consistent.
    private static let yesNo = ["yes", "no"]
    private static let onOff = ["on", "off"]
    private static let groupCreators = ["off", "superadmin", "admins", "all"]
    private static let timestamp = "RFC3339"

    /// Every verb of the protocol; this table is the contract.
    ///
    /// Entries of one verb are adjacent, and a verb either has subverbs for all its entries or
    /// has a single entry without one.
    public static let entries: [Entry] = Self.session + Self.directory + Self.queries

    // MARK: - Session

    private static let session: [Entry] = [
        Entry(
            verb: "BIND", operands: [.required("login"), .optional("password")],
            allowedBeforeAuthentication: true,
            summary: "Authenticate the session as a user or service"
        ),
        Entry(
            verb: "REAUTH", operands: [.required("password")],
            summary: "Confirm the password again before a sensitive operation"
        ),
        Entry(verb: "WHOAMI", summary: "Show the authenticated identity and its roles"),
        Entry(verb: "PING", allowedBeforeAuthentication: true, summary: "Check that the server is responsive"),
        Entry(
            verb: "HELP", operands: [.optional("verb")], allowedBeforeAuthentication: true,
            summary: "List verbs and their synopses, or those of one verb"
        ),
        Entry(verb: "QUIT", allowedBeforeAuthentication: true, summary: "Close the session"),
    ]

    // MARK: - Directory

    private static let directory: [Entry] =
        Self.add + Self.delete + Self.modify + [
            Entry(
                verb: "PASSWD", operands: [.required("login")],
                parameters: [.text("old", "pw"), .text("new", "pw", required: true)],
                summary: "Change a password; old= is needed when changing one's own"
            ),
            Entry(
                verb: "GRANT", operands: [.required("role"), .required("login")],
                summary: "Grant a role: admin, superadmin, usermanagement, groupmanagement, spamcontrol, "
                    + "helpdesk, quarantine or marketplacedeveloper"
            ),
            Entry(
                verb: "REVOKE", operands: [.required("role"), .required("login")],
                summary: "Revoke a role: admin, usermanagement, groupmanagement, spamcontrol, "
                    + "helpdesk, quarantine or marketplacedeveloper"
            ),
            Entry(
                verb: "DELEGATE", operands: [.required("mailbox"), .required("delegate"), .required("permissions")],
                parameters: [.text("expires", Self.timestamp)],
                summary: "Delegate a mailbox; permissions is a comma list of read, manage, sendonbehalf, sendas"
            ),
            Entry(
                verb: "UNDELEGATE", operands: [.required("mailbox"), .required("delegate")],
                summary: "Remove a delegate from a mailbox"
            ),
            Entry(
                verb: "AUDIT",
                parameters: [
                    .text("since", Self.timestamp), .text("until", Self.timestamp), .text("actor", "login"),
                    .text("target", "name"), .number("after"), .number("limit"),
                ],
                summary: "List audit log entries, newest first"
            ),
            Entry(verb: "SNAPSHOT", summary: "Write a consistent snapshot of the directory store"),
        ]

    private static let add: [Entry] = [
        Entry(
            verb: "ADD", subverb: "USER", operands: [.required("address")],
            parameters: [
                .text("password", "pw"), .text("name", "display name"), .text("recovery", "address"),
                .text("aliases", "a,b"), .text("policy", "name"), .oneOf("dryrun", Self.yesNo),
            ],
            summary: "Create a user mailbox"
        ),
        Entry(
            verb: "ADD", subverb: "GROUP", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .oneOf("kind", ["organization", "personal"]),
                .oneOf("sendas", Self.yesNo), .text("members", "a,b"),
            ],
            summary: "Create a group address"
        ),
        Entry(
            verb: "ADD", subverb: "SERVICE", operands: [.required("name")], parameters: [.text("password", "pw")],
            summary: "Create a service account"
        ),
        Entry(
            verb: "ADD", subverb: "POLICY", operands: [.required("name")], parameters: [.oneOf("delegation", Self.onOff)],
            summary: "Create a named policy"
        ),
        Entry(verb: "ADD", subverb: "DOMAIN", operands: [.required("domain")], summary: "Add a mail domain"),
    ]

    private static let delete: [Entry] = [
        Entry(verb: "DELETE", subverb: "USER", operands: [.required("address")], summary: "Delete a user"),
        Entry(verb: "DELETE", subverb: "GROUP", operands: [.required("address")], summary: "Delete a group"),
        Entry(verb: "DELETE", subverb: "SERVICE", operands: [.required("name")], summary: "Delete a service account"),
        Entry(verb: "DELETE", subverb: "POLICY", operands: [.required("name")], summary: "Delete a policy"),
        Entry(verb: "DELETE", subverb: "DOMAIN", operands: [.required("domain")], summary: "Remove a mail domain"),
    ]

    private static let modify: [Entry] = [
        Entry(
            verb: "MODIFY", subverb: "USER", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .text("recovery", "address"), .text("addalias", "address"),
                .text("delalias", "address"), .text("policy", "name"), .oneOf("blocked", Self.yesNo),
            ],
            summary: "Change a user"
        ),
        Entry(
            verb: "MODIFY", subverb: "GROUP", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .oneOf("sendas", Self.yesNo), .text("addmember", "address"),
                .text("delmember", "address"), .text("policy", "name"),
            ],
            summary: "Change a group"
        ),
        Entry(
            verb: "MODIFY", subverb: "ORG",
            parameters: [
                .text("name", "name"), .text("logo", "logo"), .text("defaultpolicy", "name"),
                .oneOf("orggroups", Self.groupCreators), .oneOf("personalgroups", Self.groupCreators),
                .oneOf("personalexternal", Self.yesNo), .oneOf("orgexternal", Self.yesNo),
                .text("reserved", "local parts"),
            ],
            summary: "Change organisation settings"
        ),
        Entry(
            verb: "MODIFY", subverb: "POLICY", operands: [.required("name")],
            parameters: [.oneOf("delegation", Self.onOff)],
            summary: "Change a policy"
        ),
        Entry(
            verb: "MODIFY", subverb: "SPAM",
            parameters: [
                .text("allowsender", "address"), .text("blocksender", "address"),
                .text("allowdomain", "domain"), .text("blockdomain", "domain"),
                .text("unallowsender", "address"), .text("unblocksender", "address"),
                .text("unallowdomain", "domain"), .text("unblockdomain", "domain"),
                .text("spf", "setting"), .text("dkim", "setting"), .text("dmarc", "setting"),
                .text("dnsbl", "setting"),
            ],
            summary: "Change spam filtering settings and sender lists"
        ),
    ]

    // MARK: - Queries

    private static let queries: [Entry] = [
        Entry(
            verb: "QUERY", subverb: "SENDAS", operands: [.required("login"), .required("address")],
            summary: "Whether a login may send as an address"
        ),
        Entry(
            verb: "QUERY", subverb: "SENDONBEHALF", operands: [.required("login"), .required("address")],
            summary: "Whether a login may send on behalf of an address"
        ),
        Entry(
            verb: "QUERY", subverb: "ACCESS", operands: [.required("user"), .required("mailbox")],
            summary: "The access a user has to a mailbox"
        ),
        Entry(
            verb: "QUERY", subverb: "DELEGATES", operands: [.required("mailbox")],
            summary: "The delegates of a mailbox"
        ),
        Entry(
            verb: "QUERY", subverb: "MAILBOXES", operands: [.required("user")],
            summary: "The mailboxes a user can open"
        ),
        Entry(
            verb: "QUERY", subverb: "SENDERS", operands: [.required("address")],
            summary: "The logins that may send as or on behalf of an address"
        ),
        Entry(
            verb: "QUERY", subverb: "PRIVILEGES", operands: [.required("user")],
            summary: "The roles and privileges of a user"
        ),
        Entry(verb: "QUERY", subverb: "MEMBERS", operands: [.required("group")], summary: "The members of a group"),
        Entry(
            verb: "QUERY", subverb: "ENTRY", operands: [.required("address-or-dn")],
            summary: "One directory entry with its attributes"
        ),
        Entry(
            verb: "QUERY", subverb: "DELEGATIONS", parameters: [.number("offset")],
            summary: "Every delegation in the organisation; offset= skips the first n"
        ),
        Entry(
            verb: "QUERY", subverb: "SEARCH", operands: [.required("filter")], parameters: [.number("limit"), .number("offset")],
            summary: "Search directory entries with a filter; offset= skips the first n matches"
        ),
        Entry(verb: "QUERY", subverb: "SPAM", summary: "Spam filtering settings and sender lists"),
        Entry(verb: "QUERY", subverb: "POLICIES", summary: "The email policies and which one is the default"),
        Entry(verb: "QUERY", subverb: "ORG", summary: "Organisation settings"),
    ]
}
