import HashTreeCollections

/// The result of a search: the entries found, and whether the limit cut them short.
public struct SearchResult: Hashable, Sendable {
    public let entries: [Entry]
    public let truncated: Bool
}

extension Directory {
    /// Entries matching `filter`, at most `limit` of them, in a stable order.
    ///
    /// An equality on `mail`, `mailalternateaddress` or `uid` is answered from the address
    /// index; other filters look at every entry of the kinds they can match, stopping at
    /// `limit`. The filter is matched against each entry as `view` makes it, what the caller
    /// may see of it: a filter on an attribute it may not see would otherwise tell it the
    /// attribute's value, a character at a time, by the number of entries found.
    public func search(_ filter: SearchFilter, limit: Int, seenAs view: (Entry) -> Entry = { $0 }) -> SearchResult {
        var found: [Entry] = []
        if let candidates = indexedCandidates(filter) {
            for candidate in candidates.sorted(by: { $0.distinguishedName < $1.distinguishedName }) {
                let entry = view(candidate)
                guard filter.matches(entry) else { continue }
                if found.count == limit { return SearchResult(entries: found, truncated: true) }
                found.append(entry)
            }
            return SearchResult(entries: found, truncated: false)
        }
        var candidates: [Entry] = []
        if let organization { candidates.append(entry(for: organization)) }
        // Sorting by identity gives a stable order without building every entry first; the
        // identities alone are sorted, not copies of every user.
        for id in users.keys.sorted() {
            let entry = view(entry(for: users[id]!))
            if filter.matches(entry) {
                if found.count == limit { return SearchResult(entries: found, truncated: true) }
                found.append(entry)
            }
        }
        for group in groups.values.sorted(by: { $0.id < $1.id }) { candidates.append(entry(for: group)) }
        for service in services.values.sorted(by: { $0.id < $1.id }) { candidates.append(entry(for: service)) }
        for candidate in candidates {
            let entry = view(candidate)
            guard filter.matches(entry) else { continue }
            if found.count == limit { return SearchResult(entries: found, truncated: true) }
            found.append(entry)
        }
        return SearchResult(entries: found, truncated: false)
    }

    /// Candidates from the address index when the filter pins an address, else `nil`.
    private func indexedCandidates(_ filter: SearchFilter) -> [Entry]? {
        switch filter {
        case .equality(let attribute, let value):
            switch attribute {
            case "mail", "mailalternateaddress":
                return EmailAddress(value).flatMap { entry(for: $0.value) }.map { [$0] } ?? []
            case "uid":
                var entries: [Entry] = []
                for domain in organization?.domains ?? [] {
                    if let entry = entry(for: "\(value)@\(domain.value)"), entry.kind == .user { entries.append(entry) }
                }
                if let name = ServiceName(value), let service = service(named: name) { entries.append(entry(for: service)) }
                return entries
            default:
                return nil
            }
        case .and(let filters):
            for filter in filters {
                if let candidates = indexedCandidates(filter) { return candidates }
            }
            return nil
        default:
            return nil
        }
    }
}
