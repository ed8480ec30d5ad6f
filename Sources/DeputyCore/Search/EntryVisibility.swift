/// What a viewer may see of the directory's entries: every attribute, or every attribute
/// but the private ones (``Entry/privateAttributes``), which a user still sees on their own
/// entry.
public enum EntryVisibility: Sendable, Hashable {
    /// Every attribute of every entry: administrators and helpdesk.
    case everything
    /// No private attributes, but on the entry with this identity (the viewer's own), if any.
    case publicAttributes(ownEntry: EntityID?)

    /// Whether the private attributes of the entry with identity `id` are hidden.
    func hidesPrivate(of id: EntityID?) -> Bool {
        switch self {
        case .everything: false
        case .publicAttributes(let own): id == nil || id != own
        }
    }

    /// `entry` as the viewer sees it.
    public func apply(_ entry: Entry) -> Entry {
        hidesPrivate(of: entry.id) ? entry.withoutPrivateAttributes() : entry
    }
}
