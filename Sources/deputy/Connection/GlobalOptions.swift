import ArgumentParser

/// The connection and output options (``ConnectionOptions``) given before the subcommand,
/// `deputy -o json user list`, as after it, `deputy user list -o json`.
///
/// swift-argument-parser reads a subcommand's options only after the subcommand's name, so
/// the options found before it (and between the names of nested subcommands) are moved to
/// just after the last name, before any `--`.
enum GlobalOptions {
    /// The options that take a value, by every name they have.
    static let valued: Set<String> = ["-H", "--server", "-u", "--user", "--password-file", "--ca", "--fingerprint", "--known-hosts", "-o", "--output", "--profile", "--revision"]
    /// The options that are flags.
    static let flags: Set<String> = ["-v", "--verbose"]

    /// `arguments` (without the program's name) with the options before the subcommand
    /// moved after it; unchanged when there are none.
    static func reordered(_ arguments: [String], root: any ParsableCommand.Type = Deputy.self) -> [String] {
        var command = root
        var names: [String] = []
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if flags.contains(argument) || (argument.contains("=") && valued.contains(String(argument.prefix { $0 != "=" }))) {
                moved.append(argument)
                index += 1
            } else if valued.contains(argument), index + 1 < arguments.count {
                moved += [argument, arguments[index + 1]]
                index += 2
            } else if let next = command.configuration.subcommands.first(where: { $0._commandName == argument || $0.configuration.aliases.contains(argument) }) {
                names.append(argument)
                command = next
                index += 1
            } else {
                break
            }
        }
        guard !moved.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        rest.insert(contentsOf: moved, at: rest.firstIndex(of: "--") ?? rest.endIndex)
        return names + rest
    }
}
