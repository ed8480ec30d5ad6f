extension SearchFilter {
    /// The kinds of entry the filter can match, read from its `objectclass` equalities: a
    /// search for groups (`(objectclass=deputygroup)`) need not build an entry for each of
    /// a hundred thousand users to find that none of them matches.
    ///
    /// Every kind where the filter does not say: a negation, a presence or a substring of
    /// `objectclass` are not read, so they never narrow what the filter could match.
    var possibleKinds: Set<Entry.Kind> {
        switch self {
        case .equality("objectclass", let value):
            return Set(Entry.Kind.allCases.filter { $0.objectClasses.contains(value) })
        case .and(let filters):
            return filters.reduce(Set(Entry.Kind.allCases)) { $0.intersection($1.possibleKinds) }
        case .or(let filters):
            return filters.reduce([]) { $0.union($1.possibleKinds) }
        default:
            return Set(Entry.Kind.allCases)
        }
    }
}
