/// Turns records into journal bodies and back.
///
/// Encoding checks that the body reads back as the same record, so that what is applied
/// now is exactly what a replay will apply later; a command that would not survive the
/// trip is refused before it changes anything.
struct JournalRecordCoder {
    private let encoder = StorageJSONEncoder()
    private let decoder = StorageJSONDecoder()

    /// The JSON body of `record`.
    func encode(_ record: JournalRecord) throws(StoreError) -> [UInt8] {
        let body: [UInt8]
        do {
            body = try CommandRecordWriter.encode(record) ?? encoder.encode(record)
        } catch {
            throw StoreError(.unstorable, "the command cannot be journaled: \(error)")
        }
        guard body.count <= StorageLimits.maximumRecordLength else {
            throw StoreError(.unstorable, "the command is too large to journal (\(body.count) bytes; the limit is \(StorageLimits.maximumRecordLength))")
        }
        guard (try? decode(body)) == record else {
            throw StoreError(.unstorable, "the command does not read back from the journal as written, so a replay could differ; it was not applied")
        }
        return body
    }

    /// The record in `body`: the commonest commands read straight from the document's
    /// tokens (``TapeCommandReader``), any other through `Codable`.
    func decode(_ body: [UInt8]) throws(StorageJSONDecoder.Failure) -> JournalRecord {
        try decoder.decode(JournalRecord.self, from: body) { TapeCommandReader($0).journalRecord(at: 0) }
    }
}
