/// Something a search filter can be matched against: an entry's attributes, read by name.
protocol AttributeValues {
    /// The values of the attribute `name`, none when there is no such attribute.
    func values(of name: String) -> [String]
}
