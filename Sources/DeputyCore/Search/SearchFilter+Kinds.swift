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

extension SearchFilter {
    /// Whether every entry of `kind` matches (`true`), none does (`false`), or it depends on
    /// more than the entry's kind (`nil`), judged from its `objectclass` alone: a page of
    /// `(objectclass=*)` need not match a hundred thousand users one by one to know that
    /// every one of them matches.
    func answer(forEvery kind: Entry.Kind) -> Bool? {
        switch self {
        case .presence("objectclass"):
            return true
        case .equality("objectclass", let value):
            return kind.objectClasses.contains(value)
        case .and(let filters):
            return Self.combine(filters, for: kind, decidedBy: false)
        case .or(let filters):
            return Self.combine(filters, for: kind, decidedBy: true)
        case .not(let filter):
            return filter.answer(forEvery: kind).map { !$0 }
        default:
            return nil
        }
    }

    /// The answer of an `and` (`decisive` false) or an `or` (`decisive` true) of `filters`:
    /// `decisive` once any filter gives it, else unknown when any filter's is, else the other.
    private static func combine(_ filters: [SearchFilter], for kind: Entry.Kind, decidedBy decisive: Bool) -> Bool? {
        var answer: Bool? = !decisive
        for filter in filters {
            let one = filter.answer(forEvery: kind)
            if one == decisive { return decisive }
            if one == nil { answer = nil }
        }
        return answer
    }
}
