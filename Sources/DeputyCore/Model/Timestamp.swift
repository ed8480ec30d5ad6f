import Foundation

/// RFC 3339 timestamps in UTC, the only time format Deputy shows or accepts.
public enum Timestamp {
    /// Formats `date` as `2026-11-23T10:15:00Z`, to the whole second (rounded down), as
    /// people read and type it.
    public static func format(_ date: Date) -> String {
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        return whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// Parses an RFC 3339 timestamp with `Z` or a numeric offset, with or without
    /// fractional seconds; returns `nil` for anything else.
    public static func parse(_ text: String) -> Date? {
        let plain = Date.ISO8601FormatStyle(includingFractionalSeconds: false)
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return (try? plain.parse(text)) ?? (try? fractional.parse(text))
    }
}
