import Foundation

/// RFC 3339 timestamps in UTC, the only time format Deputy shows or accepts.
public enum Timestamp {
    /// Formats `date` as `2026-11-23T10:15:00Z`, to the whole second (rounded down), as
    /// people read and type it.
    ///
    /// Written with integer arithmetic rather than Foundation's formatter: replies format
    /// timestamps from every event-loop thread, and the formatter takes a process-wide lock
    /// and shares its calendar's reference counts between them.
    public static func format(_ date: Date) -> String {
        // Written straight into the string's storage, with no intermediate array.
        String(unsafeUninitializedCapacity: length) { write(date, into: $0) }
    }

    /// The length of every timestamp ``format(_:)`` writes (years are clamped to four digits).
    public static let length = 20

    /// Writes `date` as ``format(_:)`` does into the first ``length`` bytes of `bytes` (a
    /// reply record's buffer, say, rather than a string of its own); the bytes written.
    ///
    /// - Precondition: `bytes` holds at least ``length`` bytes.
    @discardableResult
    public static func write(_ date: Date, into bytes: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(bytes.count >= length, "a timestamp needs \(length) bytes")
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        // Straight-line stores of two digits at a time: a `QUERY DELEGATES` record writes one
        // or two timestamps, and a loop over each field's digits, checking every index, was
        // a thirtieth of the answer.
        let base = bytes.baseAddress!
        let zero = UInt8(ascii: "0")
        func two(_ value: Int, at offset: Int) {
            base[offset] = zero &+ UInt8(truncatingIfNeeded: value / 10)
            base[offset + 1] = zero &+ UInt8(truncatingIfNeeded: value % 10)
        }
        let century = Int(year) / 100
        two(century, at: 0)
        two(Int(year) - century * 100, at: 2)
        base[4] = UInt8(ascii: "-")
        two(month, at: 5)
        base[7] = UInt8(ascii: "-")
        two(day, at: 8)
        base[10] = UInt8(ascii: "T")
        two(secondOfDay / 3_600, at: 11)
        base[13] = UInt8(ascii: ":")
        two(secondOfDay / 60 % 60, at: 14)
        base[16] = UInt8(ascii: ":")
        two(secondOfDay % 60, at: 17)
        base[19] = UInt8(ascii: "Z")
        return length
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`). Years outside 0...9999 are clamped: no stored time is near them.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (min(max(year, 0), 9_999), month, day)
    }

    /// Parses an RFC 3339 timestamp with `Z` or a numeric offset, with or without
    /// fractional seconds; returns `nil` for anything else. `t` and `z` may be lowercase,
    /// as RFC 3339 allows.
    public static func parse(_ text: String) -> Date? {
        let text = text.uppercased()
        let plain = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return (try? plain.parse(text)) ?? (try? fractional.parse(text))
    }
}
