extension SearchFilter {
    /// Whether every entry of `kind` matches (`true`), none does (`false`), or it depends on
    /// more than the entry's kind (`nil`), judged from its `objectclass` alone: a search for
    /// groups need not look at a hundred thousand users to find that none of them matches,
    /// nor a page of `(objectclass=*)` match each of them to know that every one does.
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
