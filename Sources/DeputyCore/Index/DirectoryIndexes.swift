import HashTreeCollections

/// The indexes that answer queries without scanning, kept up to date by every command.
///
/// Lists in the indexes are short arrays (the delegations of one mailbox, the groups of one
/// user), so copying one on change costs little; the maps around them are persistent.
struct DirectoryIndexes: Sendable, Equatable {
    /// Lowercase address to its owner, with what send-as needs of it.
    var addresses = AddressIndex()
    /// Service account name to identity.
    var serviceLogins: TreeDictionary<String, EntityID> = [:]
    /// Mailbox owner to the delegations of the mailbox, held by value so that send-as reads
    /// them without a lookup per delegation.
    var delegationsByMailbox: TreeDictionary<EntityID, [Delegation]> = [:]
    /// Delegate to the delegations it receives.
    var delegationsByDelegate: TreeDictionary<Delegate, [EntityID]> = [:]
    /// User to the groups they belong to directly.
    var groupsByMember: TreeDictionary<EntityID, [EntityID]> = [:]
    /// Group to the groups that contain it directly: walked upwards, with
    /// ``groupsByMember``, to find every group a user belongs to through nesting.
    var parentsByGroup: TreeDictionary<EntityID, [EntityID]> = [:]
    /// User to the personal groups they own.
    var groupsByOwner: TreeDictionary<EntityID, [EntityID]> = [:]

}

extension TreeDictionary where Value == [EntityID] {
    /// Adds `id` to the list under `key`.
    mutating func appendID(_ id: EntityID, to key: Key) {
        self[key, default: []].append(id)
    }

    /// Removes `id` from the list under `key`, dropping the key when the list empties.
    mutating func removeID(_ id: EntityID, from key: Key) {
        guard var list = self[key] else { return }
        list.removeAll { $0 == id }
        self[key] = list.isEmpty ? nil : list
    }
}

/// A mailbox and one delegate.
struct DelegationPair: Hashable, Sendable {
    let mailbox: EntityID
    let delegate: Delegate
}
