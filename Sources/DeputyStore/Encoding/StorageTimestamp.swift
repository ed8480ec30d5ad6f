import Foundation

/// RFC 3339 timestamps in UTC that give back exactly the `Date` they were made from.
///
/// Foundation's ISO 8601 formats keep milliseconds at most, so a journal written with them
/// would replay commands at slightly different times than they were applied, and a
/// directory loaded from a snapshot would differ from the one saved. Here the fraction of
/// a second is written with as many digits as the underlying `Double` needs to round-trip
/// (none for whole seconds): `2026-11-23T10:15:00Z`, `2026-11-23T10:15:00.25Z`.
/// Reading accepts any RFC 3339 timestamp, with `Z` or a numeric offset.
enum StorageTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, Foundation's reference date.
    private static let referenceDateUnixSeconds: Int64 = 978_307_200
    private static let secondsPerDay: Int64 = 86_400

    /// Formats `date`, or returns `nil` for a date outside the years 0000 to 9999.
    static func format(_ date: Date) -> String? {
        var text: [UInt8] = []
        guard append(date, to: &text) else { return nil }
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `date` as UTF-8 to `text`; `false` (appending nothing) for a date outside
    /// the years 0000 to 9999.
    static func append(_ date: Date, to text: inout [UInt8]) -> Bool {
        let interval = date.timeIntervalSinceReferenceDate
        guard interval.isFinite, abs(interval) < 400_000_000_000 else { return false }
        var whole = interval.rounded(.down)
        var fraction = interval - whole
        if fraction >= 1 {
            // Only just below a whole second before the reference date can the subtraction
            // round up to 1; the store's round-trip check refuses what this loses.
            whole += 1
            fraction = 0
        }
        let unixSeconds = Int64(whole) + referenceDateUnixSeconds
        let days = floorDivide(unixSeconds, secondsPerDay)
        let secondOfDay = unixSeconds - days * secondsPerDay
        let (year, month, day) = civilDate(fromDays: days)
        guard (0...9999).contains(year) else { return false }
        appendDigits(year, count: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &text)
        text.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &text)
        if fraction > 0 {
            let digits = fractionDigits(fraction)
            if !digits.isEmpty {
                text.append(UInt8(ascii: "."))
                text.append(contentsOf: digits.utf8)
            }
        }
        text.append(UInt8(ascii: "Z"))
        return true
    }

    /// Parses an RFC 3339 timestamp; `nil` for anything else.
    static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Parses an RFC 3339 timestamp from its bytes; `nil` for anything else.
    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2),
            (1...12).contains(month), (1...daysInMonth(month, of: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            let start = index
            index += 1
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index - start > 1, let value = Double("0" + String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) else {
                return nil
            }
            fraction = value
        }
        var offsetSeconds: Int64 = 0
        if expect("Zz") {
            offsetSeconds = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2), offsetHours < 24, offsetMinutes < 60 else {
                return nil
            }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let unixSeconds = days * secondsPerDay + hour * 3600 + minute * 60 + second - offsetSeconds
        // Whole seconds and the fraction are added last, as format split them, so that the
        // sum is the original interval exactly.
        return Date(timeIntervalSinceReferenceDate: Double(unixSeconds - referenceDateUnixSeconds) + fraction)
    }

    // MARK: - Digits

    /// The shortest decimal digits after the point that read back as `fraction` (in [0, 1)).
    private static func fractionDigits(_ fraction: Double) -> String {
        guard fraction > 0 else { return "" }
        let text = fraction.description
        if let exponentIndex = text.firstIndex(of: "e") {
            // Swift writes small values as `1.5e-05`; spell them out as `000015`.
            let mantissa = text[..<exponentIndex].replacingOccurrences(of: ".", with: "")
            let exponent = Int(text[text.index(after: exponentIndex)...]) ?? 0
            return String(repeating: "0", count: max(-exponent - 1, 0)) + mantissa
        }
        guard let point = text.firstIndex(of: ".") else { return "" }
        let digits = text[text.index(after: point)...]
        return digits == "0" ? "" : String(digits)
    }

    private static func appendDigits(_ value: Int64, count: Int, to text: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<count { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
            remaining %= divisor
            divisor /= 10
        }
    }

    // MARK: - Calendar (proleptic Gregorian, after Howard Hinnant's algorithms)

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func daysInMonth(_ month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
