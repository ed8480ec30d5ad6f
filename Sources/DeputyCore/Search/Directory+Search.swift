import HashTreeCollections

/// The result of a search: the entries found, and whether the limit cut them short.
public struct SearchResult: Sendable {
    public let entries: [Entry]
    public let truncated: Bool
    /// Where the next page starts, when the limit cut a scan of every entry short: handed
    /// back to ``Directory/search(_:limit:from:seenAs:)`` with the same filter, viewer and
    /// version of the directory, it goes on from the first match not returned, without
    /// matching again the entries before it.
    public let next: SearchCursor?
    /// With ``next``, the place of the last entry returned: a next page that overlaps this
    /// one by an entry (as `deputy export` asks, to see that nothing moved) starts there.
    public let last: SearchCursor?
}

/// A place in a search's stable order of every entry of one version of the directory
/// (users by identity, the organisation, groups by identity, service accounts by identity).
///
/// Only the place is kept, a few words: a session may hold one between pages.
public struct SearchCursor: Sendable, Hashable {
    /// The part of the order: users, the organisation, groups, services.
    fileprivate let section: Int
    /// The first identity of that part still to look at; none for the organisation.
    fileprivate let from: EntityID?
}

extension Directory {
    /// Entries matching `filter`, at most `limit` of them, in a stable order.
    ///
    /// An equality on `mail`, `mailalternateaddress` or `uid` is answered from the address
    /// index; other filters are matched against every entry of the kinds they can match,
    /// from the start or from `cursor` (a ``SearchResult/next`` of this directory's version,
    /// for the same filter and viewer), and the first `limit` matches in the search's order
    /// are returned. The filter is matched against each entry
    /// as `view` shows it, what the caller may see of it: a filter on an attribute it may not
    /// see would otherwise tell it the attribute's value, a character at a time, by the
    /// number of entries found. A candidate's entry is built only once it matches: the
    /// filter reads the few attributes it names (``EntryAttributes``).
    public func search(_ filter: SearchFilter, limit: Int, from cursor: SearchCursor? = nil, seenAs view: EntryVisibility = .everything) -> SearchResult {
        var found: [Entry] = []
        // A filter the index answers has no cursor: its few candidates are ordered by name.
        if let candidates = indexedCandidates(filter) {
            for candidate in candidates.sorted(by: { $0.distinguishedName < $1.distinguishedName }) {
                let entry = view.apply(candidate)
                guard filter.matches(entry) else { continue }
                if found.count == limit { return SearchResult(entries: found, truncated: true, next: nil, last: nil) }
                found.append(entry)
            }
            return SearchResult(entries: found, truncated: false, next: nil, last: nil)
        }
        // Each kind of entry in turn, by identity. A kind's entries are matched as the map
        // holds them, and only the matches are sorted: looking each entry up by identity,
        // in the order of all the identities, cost more than matching it.
        let source = EntryAttributes.Source(self)
        let start = cursor ?? SearchCursor(section: 0, from: nil)
        var lastFound: SearchCursor?
        for section in start.section..<4 {
            let from = section == start.section ? start.from : nil
            var matches: [EntityID] = []
            var organizationEntry: Entry?
            switch section {
            case 0:
                matches = Self.matching(users, from: from, every: filter.answer(forEvery: .user)) { filter.matches(attributes: EntryAttributes(object: .user($0), hidesPrivate: view.hidesPrivate(of: $0.id), source: source)) }
            case 1:
                // One entry: built whole, as `QUERY ENTRY` shows it.
                guard let organization else { continue }
                let entry = view.apply(entry(for: organization))
                guard filter.matches(entry) else { continue }
                organizationEntry = entry
            case 2:
                matches = Self.matching(groups, from: from, every: filter.answer(forEvery: .group)) { filter.matches(attributes: EntryAttributes(object: .group($0), hidesPrivate: view.hidesPrivate(of: $0.id), source: source)) }
            case 3:
                matches = Self.matching(services, from: from, every: filter.answer(forEvery: .service)) { filter.matches(attributes: EntryAttributes(object: .service($0), hidesPrivate: view.hidesPrivate(of: $0.id), source: source)) }
            default:
                continue
            }
            if let organizationEntry {
                if found.count == limit {
                    return SearchResult(entries: found, truncated: true, next: SearchCursor(section: section, from: nil), last: lastFound)
                }
                found.append(organizationEntry)
                lastFound = SearchCursor(section: section, from: nil)
                continue
            }
            for identity in matches {
                if found.count == limit {
                    return SearchResult(entries: found, truncated: true, next: SearchCursor(section: section, from: identity), last: lastFound)
                }
                let object: EntryAttributes.Object
                switch section {
                case 0: object = .user(users[identity]!)
                case 2: object = .group(groups[identity]!)
                default: object = .service(services[identity]!)
                }
                found.append(EntryAttributes(object: object, hidesPrivate: view.hidesPrivate(of: identity), source: source).entry())
                lastFound = SearchCursor(section: section, from: identity)
            }
        }
        return SearchResult(entries: found, truncated: false, next: nil, last: nil)
    }

    /// The identities in `map` from `from` on whose values `matches`, in order; with
    /// `every`, the filter's answer for each of them whatever else they hold.
    private static func matching<Value>(_ map: TreeDictionary<EntityID, Value>, from: EntityID?, every: Bool?, _ matches: (Value) -> Bool) -> [EntityID] {
        if every == false { return [] }
        var identities: [EntityID] = []
        if every == true {
            identities.reserveCapacity(map.count)
            for identity in map.keys where from.map({ identity >= $0 }) ?? true { identities.append(identity) }
        } else {
            for (identity, value) in map {
                if let from, identity < from { continue }
                if matches(value) { identities.append(identity) }
            }
        }
        identities.sort()
        return identities
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
