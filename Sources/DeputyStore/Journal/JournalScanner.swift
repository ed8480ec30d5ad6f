/// Splits a journal file into frames and decides what a damaged stretch means.
///
/// A stretch that no valid frame follows is a torn tail: the last write did not reach the
/// disk whole. So is damage followed only by frames of the write the damage lies in (all
/// of them carry one batch start, no later than the damaged record's sequence): a power
/// cut can persist the pages of one write out of order. Damage followed by any frame of a
/// later write is damage to durable records, and scanning stops with an error.
enum JournalScanner {
    /// The frames of a journal and its torn tail, if any.
    struct Scan {
        var frames: [JournalFrame.Frame] = []
        /// The length of the file up to the end of the last frame kept.
        var validLength = 0
        var tornTail: TornTail?
    }

    /// Scans `bytes`, read from `path`. `previousSequence` is the sequence the first record
    /// would follow if the file started with damage (the snapshot's, or 0).
    static func scan(_ bytes: [UInt8], path: String, previousSequence: UInt64) throws(StoreError) -> Scan {
        var scan = Scan()
        var offset = 0
        while offset < bytes.count {
            switch JournalFrame.parse(bytes, at: offset) {
            case .frame(let frame):
                if let last = scan.frames.last, frame.sequence != last.sequence + 1 {
                    throw StoreError.corruptJournal(
                        path: path, offset: offset,
                        "record \(frame.sequence) follows record \(last.sequence): records are missing or out of order"
                    )
                }
                scan.frames.append(frame)
                offset = frame.end
                scan.validLength = offset
            case .damaged(let reason):
                let later = validFrames(in: bytes, after: offset)
                let damagedSequence = (scan.frames.last?.sequence ?? previousSequence) + 1
                if let first = later.first,
                    !later.allSatisfy({ $0.batchStart == first.batchStart }) || first.batchStart > damagedSequence
                {
                    throw StoreError.corruptJournal(
                        path: path, offset: offset,
                        "\(reason), and \(later.count) intact record(s) from a later write follow at byte \(first.offset), so this is damage to stored records, not a torn last write"
                    )
                }
                scan.tornTail = TornTail(offset: offset, length: bytes.count - offset, reason: reason)
                return scan
            }
        }
        return scan
    }

    /// Every intact frame after `offset`, found by looking for the magic bytes at each
    /// position and then following frame lengths.
    private static func validFrames(in bytes: [UInt8], after offset: Int) -> [JournalFrame.Frame] {
        var frames: [JournalFrame.Frame] = []
        var position = offset + 1
        let firstMagicByte = JournalFrame.magic[0]
        while position + JournalFrame.headerLength <= bytes.count {
            if bytes[position] == firstMagicByte, case .frame(let frame) = JournalFrame.parse(bytes, at: position) {
                frames.append(frame)
                position = frame.end
            } else {
                position += 1
            }
        }
        return frames
    }
}

/// The damaged end of a journal that recovery cuts off: a write a crash interrupted.
public struct TornTail: Hashable, Sendable {
    /// Where the damage starts, which is where the file is cut.
    public let offset: Int
    /// How many bytes are cut.
    public let length: Int
    /// What is wrong at ``offset``.
    public let reason: String
}
