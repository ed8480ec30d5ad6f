import HashTreeCollections

/// The result of a search: the entries found, and whether the limit cut them short.
public struct SearchResult: Sendable {
    public let entries: [Entry]
    public let truncated: Bool
    /// Where the next page starts, when the limit cut a scan of every entry short: handed
    /// back to ``Directory/search(_:limit:from:seenAs:)`` with the same filter, viewer and
    /// version of the directory, it goes on from the first match not returned, without
    /// looking again at the entries before it.
    public let next: SearchCursor?
    /// With ``next``, the place of the last entry returned: a next page that overlaps this
    /// one by an entry (as `deputy export` asks, to see that nothing moved) starts there.
    public let last: SearchCursor?
}

/// A place in a search's stable order of every entry of one version of the directory
/// (users by identity, the organisation, groups by identity, service accounts by identity).
///
/// Only the place is kept, a few words: a session may hold one between pages, and the order
/// is sorted again for each page (milliseconds), where keeping it would hold a megabyte of
/// identities for every session paging through a large directory.
public struct SearchCursor: Sendable, Hashable {
    /// The next candidate: an index into users, then the organisation, groups, services.
    fileprivate let index: Int
}

extension Directory {
    /// Entries matching `filter`, at most `limit` of them, in a stable order.
    ///
    /// An equality on `mail`, `mailalternateaddress` or `uid` is answered from the address
    /// index; other filters look at every entry of the kinds they can match, stopping at
    /// `limit`, from the start or from `cursor` (a ``SearchResult/next`` of this directory's
    /// version, for the same filter and viewer). The filter is matched against each entry
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
        // Sorting identities gives a stable order without building every entry first, or
        // copying every user.
        let userIDs = users.keys.sorted()
        let groupIDs = groups.keys.sorted()
        let serviceIDs = services.keys.sorted()
        let organizationCount = organization == nil ? 0 : 1
        let total = userIDs.count + organizationCount + groupIDs.count + serviceIDs.count
        var index = cursor?.index ?? 0
        var lastFound: Int?
        // Kinds the filter can't match are stepped over whole, without building an entry.
        let kinds = filter.possibleKinds
        let firstGroup = userIDs.count + organizationCount
        let firstService = firstGroup + groupIDs.count
        let source = EntryAttributes.Source(self)
        while index < total {
            if index < userIDs.count, !kinds.contains(.user) { index = userIDs.count; continue }
            if index >= firstGroup, index < firstService, !kinds.contains(.group) { index = firstService; continue }
            if index >= firstService, !kinds.contains(.service) { break }
            defer { index += 1 }
            // A user, group or service is matched on the attributes the filter names, and its
            // entry built only if it matches; the organisation, one entry, is built whole.
            var attributes: EntryAttributes?
            var whole: Entry?
            switch index - userIDs.count {
            case ..<0:
                guard let user = users[userIDs[index]] else { continue }
                attributes = EntryAttributes(object: .user(user), hidesPrivate: view.hidesPrivate(of: user.id), source: source)
            case ..<organizationCount:
                whole = organization.map { view.apply(entry(for: $0)) }
            case let rest where rest - organizationCount < groupIDs.count:
                guard let group = groups[groupIDs[rest - organizationCount]] else { continue }
                attributes = EntryAttributes(object: .group(group), hidesPrivate: view.hidesPrivate(of: group.id), source: source)
            case let rest:
                guard let service = services[serviceIDs[rest - organizationCount - groupIDs.count]] else { continue }
                attributes = EntryAttributes(object: .service(service), hidesPrivate: view.hidesPrivate(of: service.id), source: source)
            }
            if let attributes {
                guard filter.matches(attributes: attributes) else { continue }
            } else {
                guard let whole, filter.matches(whole) else { continue }
            }
            if found.count == limit {
                return SearchResult(entries: found, truncated: true, next: SearchCursor(index: index), last: lastFound.map(SearchCursor.init(index:)))
            }
            found.append(whole ?? attributes!.entry())
            lastFound = index
        }
        return SearchResult(entries: found, truncated: false, next: nil, last: nil)
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
