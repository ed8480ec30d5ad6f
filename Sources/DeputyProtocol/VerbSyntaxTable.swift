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
    public static let entries: [Entry] = Self.session + Self.directory + Self.secondFactor + Self.queries

    // MARK: - Session

    private static let session: [Entry] = [
        Entry(
            verb: "BIND", operands: [.required("login"), .optional("password")],
            allowedBeforeAuthentication: true,
            summary: "Authenticate the session as a user or service",
            decode: Request.decodeBind
        ),
        Entry(
            verb: "REAUTH", operands: [.required("password"), .optional("code")],
            summary: "Confirm the password again before a sensitive operation, with a code where the account has a second factor",
            decode: Request.decodeReauth
        ),
        Entry(verb: "WHOAMI", summary: "Show the authenticated identity and its roles", decode: Request.decodeWhoami),
        Entry(verb: "PING", allowedBeforeAuthentication: true, summary: "Check that the server is responsive", decode: Request.decodePing),
        Entry(
            verb: "HELP", operands: [.optional("verb")], allowedBeforeAuthentication: true,
            summary: "List verbs and their synopses, or those of one verb",
            decode: Request.decodeHelp
        ),
        Entry(verb: "QUIT", allowedBeforeAuthentication: true, summary: "Close the session", decode: Request.decodeQuit),
    ]

    // MARK: - Directory

    private static let directory: [Entry] =
        Self.add + Self.delete + Self.modify + [
            Entry(
                verb: "PASSWD", operands: [.required("login")],
                parameters: [.text("old", "pw"), .text("new", "pw", required: true)],
                summary: "Change a password; old= is needed when changing one's own",
                decode: Request.decodePasswd
            ),
            Entry(
                verb: "GRANT", operands: [.required("role"), .required("login")],
                summary: "Grant a role: admin, superadmin, usermanagement, groupmanagement, spamcontrol, "
                    + "helpdesk, quarantine or marketplacedeveloper",
                decode: Request.decodeGrant
            ),
            Entry(
                verb: "REVOKE", operands: [.required("role"), .required("login")],
                summary: "Revoke a role: admin, usermanagement, groupmanagement, spamcontrol, "
                    + "helpdesk, quarantine or marketplacedeveloper",
                decode: Request.decodeRevoke
            ),
            Entry(
                verb: "DELEGATE", operands: [.required("mailbox"), .required("delegate"), .required("permissions")],
                parameters: [.text("expires", Self.timestamp)],
                summary: "Delegate a mailbox; permissions is a comma list of read, manage, sendonbehalf, sendas",
                decode: Request.decodeDelegate
            ),
            Entry(
                verb: "UNDELEGATE", operands: [.required("mailbox"), .required("delegate")],
                summary: "Remove a delegate from a mailbox",
                decode: Request.decodeUndelegate
            ),
            Entry(
                verb: "AUDIT",
                parameters: [
                    .text("since", Self.timestamp), .text("until", Self.timestamp), .text("actor", "login"),
                    .text("target", "name"), .sequence("after"), .sequence("before"), .number("limit"),
                ],
                summary: "List audit log entries, newest first",
                decode: Request.decodeAudit
            ).acceptingRevision(),
            Entry(verb: "SNAPSHOT", summary: "Write a consistent snapshot of the directory store", decode: Request.decodeSnapshot),
        ]

    private static let add: [Entry] = [
        Entry(
            verb: "ADD", subverb: "USER", operands: [.required("address")],
            parameters: [
                .text("password", "pw"), .text("name", "display name"), .text("recovery", "address"),
                .text("aliases", "a,b"), .text("policy", "name"), .oneOf("dryrun", Self.yesNo),
            ],
            summary: "Create a user mailbox",
            decode: Request.decodeAddUser
        ),
        Entry(
            verb: "ADD", subverb: "GROUP", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .oneOf("kind", ["organization", "personal"]),
                .oneOf("sendas", Self.yesNo), .text("members", "a,b"),
            ],
            summary: "Create a group address",
            decode: Request.decodeAddGroup
        ),
        Entry(
            verb: "ADD", subverb: "SERVICE", operands: [.required("name")], parameters: [.text("password", "pw")],
            summary: "Create a service account",
            decode: Request.decodeAddService
        ),
        Entry(
            verb: "ADD", subverb: "POLICY", operands: [.required("name")], parameters: [.oneOf("delegation", Self.onOff)],
            summary: "Create a named policy",
            decode: Request.decodeAddPolicy
        ),
        Entry(verb: "ADD", subverb: "DOMAIN", operands: [.required("domain")], summary: "Add a mail domain", decode: Request.decodeAddDomain),
    ]

    private static let delete: [Entry] = [
        Entry(verb: "DELETE", subverb: "USER", operands: [.required("address")], summary: "Delete a user", decode: Request.decodeDeleteUser),
        Entry(verb: "DELETE", subverb: "GROUP", operands: [.required("address")], summary: "Delete a group", decode: Request.decodeDeleteGroup),
        Entry(verb: "DELETE", subverb: "SERVICE", operands: [.required("name")], summary: "Delete a service account", decode: Request.decodeDeleteService),
        Entry(verb: "DELETE", subverb: "POLICY", operands: [.required("name")], summary: "Delete a policy", decode: Request.decodeDeletePolicy),
        Entry(verb: "DELETE", subverb: "DOMAIN", operands: [.required("domain")], summary: "Remove a mail domain", decode: Request.decodeDeleteDomain),
    ]

    private static let modify: [Entry] = [
        Entry(
            verb: "MODIFY", subverb: "USER", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .text("recovery", "address"), .text("addalias", "address"),
                .text("delalias", "address"), .text("policy", "name"), .oneOf("blocked", Self.yesNo),
            ],
            summary: "Change a user",
            decode: Request.decodeModifyUser
        ),
        Entry(
            verb: "MODIFY", subverb: "GROUP", operands: [.required("address")],
            parameters: [
                .text("name", "display name"), .oneOf("sendas", Self.yesNo), .text("addmember", "address"),
                .text("delmember", "address"), .text("policy", "name"),
            ],
            summary: "Change a group",
            decode: Request.decodeModifyGroup
        ),
        Entry(
            verb: "MODIFY", subverb: "ORG",
            parameters: [
                .text("name", "name"), .text("logo", "logo"), .text("defaultpolicy", "name"),
                .oneOf("orggroups", Self.groupCreators), .oneOf("personalgroups", Self.groupCreators),
                .oneOf("personalexternal", Self.yesNo), .oneOf("orgexternal", Self.yesNo),
                .text("reserved", "local parts"), .oneOf("adminfactor", Self.yesNo), .number("auditdays"),
            ],
            summary: "Change organisation settings",
            decode: Request.decodeModifyOrganization
        ),
        Entry(
            verb: "MODIFY", subverb: "POLICY", operands: [.required("name")],
            parameters: [.oneOf("delegation", Self.onOff)],
            summary: "Change a policy",
            decode: Request.decodeModifyPolicy
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
            summary: "Change spam filtering settings and sender lists",
            decode: Request.decodeModifySpam
        ),
    ]

    // MARK: - Second factor

    private static let secondFactor: [Entry] = [
        Entry(
            verb: "MFA", subverb: "ENROLL",
            summary: "Enrol a TOTP second factor: its secret, otpauth:// URI and recovery codes, shown once",
            decode: Request.decodeMFAEnroll
        ),
        Entry(
            verb: "MFA", subverb: "CONFIRM", operands: [.required("code")],
            summary: "Confirm the enrolled second factor with a first code from the authenticator",
            decode: Request.decodeMFAConfirm
        ),
        Entry(
            verb: "MFA", subverb: "REMOVE", operands: [.optional("login")],
            summary: "Remove one's own second factor, or reset another user's (after REAUTH with a code)",
            decode: Request.decodeMFARemove
        ),
        Entry(
            verb: "MFA", subverb: "STATUS", operands: [.optional("login")],
            summary: "Whether a user has a second factor and how many recovery codes remain",
            decode: Request.decodeMFAStatus
        ),
    ]

    // MARK: - Queries

    private static let queries: [Entry] = [
        Entry(
            verb: "QUERY", subverb: "SENDAS", operands: [.required("login"), .required("address")],
            summary: "Whether a login may send as an address",
            decode: Request.decodeSendAs
        ),
        Entry(
            verb: "QUERY", subverb: "SENDONBEHALF", operands: [.required("login"), .required("address")],
            summary: "Whether a login may send on behalf of an address",
            decode: Request.decodeSendOnBehalf
        ),
        Entry(
            verb: "QUERY", subverb: "ACCESS", operands: [.required("user"), .required("mailbox")],
            summary: "The access a user has to a mailbox",
            decode: Request.decodeAccess
        ),
        Entry(
            verb: "QUERY", subverb: "DELEGATES", operands: [.required("mailbox")],
            summary: "The delegates of a mailbox",
            decode: Request.decodeDelegates
        ),
        Entry(
            verb: "QUERY", subverb: "MAILBOXES", operands: [.required("user")],
            summary: "The mailboxes a user can open",
            decode: Request.decodeMailboxes
        ),
        Entry(
            verb: "QUERY", subverb: "SENDERS", operands: [.required("address")],
            summary: "The logins that may send as or on behalf of an address",
            decode: Request.decodeSenders
        ),
        Entry(
            verb: "QUERY", subverb: "HOLDERS", operands: [.required("address")],
            parameters: [.oneOf("permission", ["read", "manage", "sendonbehalf", "sendas"])],
            summary: "Everyone who may read, manage, send on behalf of or send as an address, and how",
            decode: Request.decodeHolders
        ),
        Entry(
            verb: "QUERY", subverb: "RIGHTS", operands: [.required("user")],
            summary: "Everything a user may do on every mailbox, and how",
            decode: Request.decodeRights
        ),
        Entry(
            verb: "QUERY", subverb: "PRIVILEGES", operands: [.required("user")],
            summary: "The roles and privileges of a user",
            decode: Request.decodePrivileges
        ),
        Entry(
            verb: "QUERY", subverb: "MEMBERS", operands: [.required("group")], parameters: [.oneOf("expand", Self.yesNo)],
            summary: "The members of a group; expand=yes lists everyone inside nested groups too, with the group that holds each",
            decode: Request.decodeMembers
        ),
        Entry(
            verb: "QUERY", subverb: "ENTRY", operands: [.required("address-or-dn")],
            summary: "One directory entry with its attributes",
            decode: Request.decodeEntry
        ),
        Entry(
            verb: "QUERY", subverb: "DELEGATIONS", parameters: [.number("offset")],
            summary: "Every delegation in the organisation; offset= skips the first n",
            decode: Request.decodeDelegations
        ),
        Entry(
            verb: "QUERY", subverb: "SEARCH", operands: [.required("filter")], parameters: [.number("limit"), .number("offset")],
            summary: "Search directory entries with a filter; offset= skips the first n matches",
            decode: Request.decodeSearch
        ),
        Entry(verb: "QUERY", subverb: "SPAM", summary: "Spam filtering settings and sender lists", decode: Request.decodeSpam),
        Entry(verb: "QUERY", subverb: "POLICIES", summary: "The email policies and which one is the default", decode: Request.decodePolicies),
        Entry(verb: "QUERY", subverb: "ORG", summary: "Organisation settings", decode: Request.decodeOrganization),
    ].map { $0.acceptingRevision() }
}
