extension VerbSyntax {
    /// A positional argument in a verb's synopsis, after any subverb keyword.
    ///
    /// Written `<login>` when required and `[verb]` when optional; optional operands always
    /// come after required ones.
    public struct Operand: Hashable, Sendable {
        /// The placeholder name, for example `login`.
        public let name: String

        /// Whether the operand may be left out.
        public let isOptional: Bool

        /// The operand as written in a synopsis, for example `<login>` or `[verb]`.
        public var synopsis: String {
            self.isOptional ? "[\(self.name)]" : "<\(self.name)>"
        }

        init(name: String, isOptional: Bool) {
            self.name = name
            self.isOptional = isOptional
        }

        static func required(_ name: String) -> Operand {
            Operand(name: name, isOptional: false)
        }

        static func optional(_ name: String) -> Operand {
            Operand(name: name, isOptional: true)
        }
    }
}
