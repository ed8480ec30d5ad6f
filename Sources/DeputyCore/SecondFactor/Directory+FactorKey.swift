import HashTreeCollections

extension Directory {
    /// How many users have a second factor, and which of them have a sealed secret that
    /// `box` does not open: sealed under another key, or damaged.
    public func secondFactors(notOpenedBy box: FactorSecretBox) -> (enrolled: Int, unopened: [EntityID]) {
        var unopened: [EntityID] = []
        for factor in secondFactors.values where box.open(factor.sealedSecret, for: factor.user) == nil {
            unopened.append(factor.user)
        }
        return (secondFactors.count, unopened)
    }
}
