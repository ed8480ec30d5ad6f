extension VerbSyntax {
    /// A named argument (`key=value`) a verb accepts.
    ///
    /// ```
    /// [name=<display name>]    [kind=organization|personal]    new=<pw>    [limit=<n>]
    /// ```
    public struct Parameter: Hashable, Sendable {
        /// The form a parameter's value must take.
        public enum Value: Hashable, Sendable {
            /// Any string; the placeholder is shown in the synopsis, for example `display name`.
            case text(placeholder: String)
            /// Exactly one of the listed lowercase words.
            case oneOf([String])
            /// A non-negative decimal integer of 1 to 9 digits.
            case number
            /// A sequence number (a revision, an audit record's `seq=`): a decimal integer
            /// of 1 to 20 digits that fits 64 bits, as the revisions it names grow past 9.
            case sequence
        }

        /// The key, lowercase, for example `name`.
        public let key: String

        /// The form the value must take.
        public let value: Value

        /// Whether the parameter must be present.
        public let isRequired: Bool

        init(key: String, value: Value, isRequired: Bool = false) {
            self.key = key
            self.value = value
            self.isRequired = isRequired
        }

        static func text(_ key: String, _ placeholder: String, required: Bool = false) -> Parameter {
            Parameter(key: key, value: .text(placeholder: placeholder), isRequired: required)
        }

        static func oneOf(_ key: String, _ values: [String]) -> Parameter {
            Parameter(key: key, value: .oneOf(values))
        }

        static func number(_ key: String) -> Parameter {
            Parameter(key: key, value: .number)
        }

        static func sequence(_ key: String) -> Parameter {
            Parameter(key: key, value: .sequence)
        }

        /// The parameter as written in a synopsis, for example `[kind=organization|personal]`.
        public var synopsis: String {
            let form =
                switch self.value {
                case .text(let placeholder): "\(self.key)=<\(placeholder)>"
                case .oneOf(let values): "\(self.key)=" + values.joined(separator: "|")
                case .number: "\(self.key)=<n>"
                case .sequence: "\(self.key)=<seq>"
                }
            return self.isRequired ? form : "[\(form)]"
        }

        /// A description of the accepted values, for error messages.
        var expectation: String {
            switch self.value {
            case .text: "text"
            case .oneOf(let values): "one of " + values.joined(separator: ", ")
            case .number: "a number"
            case .sequence: "a sequence number"
            }
        }

        /// Whether `value` is acceptable for this parameter. Matching is exact (case-sensitive).
        public func accepts(_ value: String) -> Bool {
            switch self.value {
            case .text:
                return true
            case .oneOf(let values):
                return values.contains(value)
            case .number:
                let utf8 = value.utf8
                return (1...9).contains(utf8.count) && utf8.allSatisfy(WireByte.isDigit)
            case .sequence:
                let utf8 = value.utf8
                return (1...20).contains(utf8.count) && utf8.allSatisfy(WireByte.isDigit) && UInt64(value) != nil
            }
        }
    }
}
