import DeputyCore
import Foundation
import Testing

@Suite("Timestamps written without Foundation's formatter")
struct TimestampFormatTests {
    /// What Foundation's ISO 8601 style writes, the reference the integer arithmetic must match.
    static func reference(_ date: Date) -> String {
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        return whole.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    @Test("the same text as Foundation's ISO 8601 style, at every edge and at 20,000 random seconds from 1601 to 9999")
    func agreesWithFoundation() {
        var edges: [TimeInterval] = [0, -1, 1, 86_399, 86_400, -86_400, -86_401, 951_782_400, 951_868_799, 4_107_542_400, 1_798_761_599.999, -0.5]
        // Leap days and year ends around 1900, 2000 and 2100.
        for text in ["1900-02-28T23:59:59Z", "1900-03-01T00:00:00Z", "2000-02-29T12:00:00Z", "2100-03-01T00:00:00Z", "2026-12-31T23:59:59Z"] {
            edges.append(Timestamp.parse(text)!.timeIntervalSince1970)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            edges.append(TimeInterval(Int64.random(in: -11_644_473_600...253_402_300_799, using: &generator)) + Double.random(in: 0..<1, using: &generator))
        }
        for seconds in edges {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.format(date) == Self.reference(date), "at \(seconds)")
        }
    }

    @Test("years before 1601, to the clamp at year 0 and at 9999, in the proleptic Gregorian calendar")
    func earlyAndClampedYears() {
        let expected: [(TimeInterval, String)] = [
            (-62_135_596_800, "0001-01-01T00:00:00Z"), (-46_383_580_800, "0500-03-01T00:00:00Z"),
            (-11_670_998_400, "1600-02-29T00:00:00Z"), (-62_167_219_200, "0000-01-01T00:00:00Z"),
            (253_402_300_799, "9999-12-31T23:59:59Z"),
        ]
        for (seconds, text) in expected {
            #expect(Timestamp.format(Date(timeIntervalSince1970: seconds)) == text, "at \(seconds)")
        }
        // Outside 0...9999 the year is clamped; the rest stays four-digit and well formed.
        #expect(Timestamp.format(Date(timeIntervalSince1970: -62_167_219_201)).hasPrefix("0000-"))
        #expect(Timestamp.format(Date(timeIntervalSince1970: 253_402_300_800)).hasPrefix("9999-"))
        #expect(Timestamp.format(Date(timeIntervalSince1970: 253_402_300_800)).utf8.count == Timestamp.length)
    }
}
