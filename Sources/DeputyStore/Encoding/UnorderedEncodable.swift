import HashTreeCollections

/// A collection whose iteration order means nothing, written in a canonical order.
///
/// `Set` and `TreeSet` iterate in an order that depends on the process's random hashing
/// seed, so a directory with a group of several members would otherwise be written
/// differently by every run of the daemon, and two snapshots of the same directory would
/// not diff cleanly. ``StorageJSONEncoder`` writes their elements sorted by their encoded
/// bytes instead; reading them back does not depend on the order.
protocol UnorderedEncodable {
    /// Writes the elements, sorted, as a JSON array.
    func encodeSorted(to encoder: JSONValueEncoder) throws
}

extension Set: UnorderedEncodable where Element: Encodable {
    func encodeSorted(to encoder: JSONValueEncoder) throws {
        try encoder.encodeSorted(self)
    }
}

extension TreeSet: UnorderedEncodable where Element: Encodable {
    func encodeSorted(to encoder: JSONValueEncoder) throws {
        try encoder.encodeSorted(self)
    }
}

extension JSONValueEncoder {
    /// Writes `elements` as an array sorted by each element's compact encoding.
    func encodeSorted<Elements: Collection>(_ elements: Elements) throws where Elements.Element: Encodable {
        let array = output.open(.array)
        guard !elements.isEmpty else { return }
        // Every element into one scratch buffer, then copied out in sorted order.
        let scratch = JSONOutput(expandedDepth: 0, capacity: elements.count * 32)
        let encoder = JSONValueEncoder(output: scratch)
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(elements.count)
        for element in elements {
            let start = scratch.bytes.count
            try encoder.encodeValue(element)
            scratch.close(downTo: 0)
            ranges.append(start..<scratch.bytes.count)
        }
        if let failure = scratch.failure { throw StorageJSONEncoder.Failure(description: failure) }
        let bytes = scratch.bytes
        ranges.sort { bytes[$0].lexicographicallyPrecedes(bytes[$1]) }
        for range in ranges where output.beginElement(array) {
            output.bytes.append(contentsOf: bytes[range])
        }
    }
}
