/// The users a reverse query has taken already: a short list for a mailbox's few
/// candidates, a set once a group's members make it long.
struct SeenUsers {
    private var list: [EntityID] = []
    private var set: Set<EntityID>?

    /// Whether `id` is new, recording it.
    mutating func insert(_ id: EntityID) -> Bool {
        if set != nil { return set!.insert(id).inserted }
        if list.contains(id) { return false }
        list.append(id)
        if list.count > 16 { set = Set(list) }
        return true
    }
}
