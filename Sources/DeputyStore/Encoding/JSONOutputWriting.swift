import DeputyCore

/// Writing values straight into a ``JSONOutput`` in the shape ``StorageJSONEncoder`` gives
/// them, for the writers that skip `Codable` where it costs most (``SnapshotListWriter``,
/// ``CommandRecordWriter``). The caller writes keys in the encoder's order (sorted, `nil`
/// optionals left out); scalars go through ``JSONOutput``'s own writers.
protocol JSONOutputWriting {
    var output: JSONOutput { get }
}

extension JSONOutputWriting {
    func open() { output.bytes.append(UInt8(ascii: "{")) }
    func close() { output.bytes.append(UInt8(ascii: "}")) }

    /// `"name":`, after a comma unless it is the object's first member (the object's `{`
    /// was the last byte written: no value ends with one).
    func key(_ name: StaticString) {
        // Byte by byte: an array literal here would be an array made for every key.
        if output.lastByte != UInt8(ascii: "{") { output.bytes.append(UInt8(ascii: ",")) }
        output.bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { output.bytes.append(contentsOf: $0) }
        output.bytes.append(UInt8(ascii: "\""))
        output.bytes.append(UInt8(ascii: ":"))
    }

    /// An enum case as `Codable` synthesises it: `{"name":{"_0":payload}}`, or
    /// `{"name":{}}` without a payload.
    func enumCase(_ name: StaticString, _ payload: (() -> Void)?) {
        open()
        key(name)
        open()
        if let payload {
            key("_0")
            payload()
        }
        close()
        close()
    }

    func array<Elements: Sequence>(_ elements: Elements, _ writeElement: (Elements.Element) -> Void) {
        output.bytes.append(UInt8(ascii: "["))
        var first = true
        for element in elements {
            if !first { output.bytes.append(UInt8(ascii: ",")) }
            first = false
            writeElement(element)
        }
        output.bytes.append(UInt8(ascii: "]"))
    }

    func write(_ principal: Principal) {
        switch principal {
        case .user(let id): enumCase("user") { output.writeInteger(id.rawValue) }
        case .service(let id): enumCase("service") { output.writeInteger(id.rawValue) }
        case .system: enumCase("system", nil)
        }
    }
}
