/// A QR code (ISO/IEC 18004, model 2) holding bytes, at error correction level M.
///
/// Made for what `deputy mfa enroll` shows: an `otpauth://` URI of one to two hundred bytes,
/// which an authenticator app scans off the terminal. So it knows byte mode only, and
/// versions 1 to 10 (up to 213 bytes); the mask is chosen by the standard's penalty rules.
public struct QRCode: Sendable {
    /// The modules, row by row: `true` is dark. `size` × `size`, without the quiet zone.
    public let modules: [[Bool]]
    /// The version chosen, 1 to 10.
    public let version: Int
    /// The mask pattern chosen, 0 to 7.
    public let mask: Int

    /// The side, in modules.
    public var size: Int { modules.count }

    /// The most bytes a code can hold here (version 10, level M).
    public static let maximumLength = 213

    /// Encodes `bytes` in the smallest version that holds them; `nil` when they are more
    /// than ``maximumLength``. The mask is the one the standard's penalty rules prefer,
    /// unless `mask` names one.
    public init?(bytes: [UInt8], mask forcedMask: Int? = nil) {
        guard let version = (1...10).first(where: { Self.dataCapacity(version: $0) >= Self.bitLength(count: bytes.count, version: $0) }) else {
            return nil
        }
        var symbol = Symbol(version: version)
        let codewords = Self.codewords(for: bytes, version: version, layout: symbol.layout)
        symbol.place(codewords)
        var best: (mask: Int, penalty: Int, modules: [[Bool]])?
        for mask in forcedMask.map({ [$0] }) ?? Array(0..<8) {
            let masked = symbol.masked(mask)
            let penalty = Penalty.score(masked)
            if best == nil || penalty < best!.penalty { best = (mask, penalty, masked) }
        }
        self.version = version
        self.mask = best!.mask
        self.modules = best!.modules
    }

    /// Encodes the UTF-8 bytes of `text`.
    public init?(text: String) {
        self.init(bytes: Array(text.utf8))
    }

    // MARK: - Capacity

    /// Error correction codewords per block at level M, by version.
    static let eccPerBlock = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26]
    /// Blocks at level M, by version.
    static let blockCount = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5]

    /// The data bits a version holds at level M.
    static func dataCapacity(version: Int) -> Int {
        let raw = Symbol(version: version).layout.dataModuleCount / 8
        return (raw - eccPerBlock[version] * blockCount[version]) * 8
    }

    /// Bits taken by `count` bytes in byte mode: the mode, the length, the bytes.
    static func bitLength(count: Int, version: Int) -> Int {
        4 + lengthBits(version: version) + 8 * count
    }

    /// Versions 1 to 9 give a byte count 8 bits; 10 to 26, 16.
    static func lengthBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    // MARK: - Codewords

    /// The data codewords, padded, split into blocks, each with its Reed-Solomon
    /// codewords, then interleaved as the symbol stores them.
    static func codewords(for bytes: [UInt8], version: Int, layout: Layout) -> [UInt8] {
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: lengthBits(version: version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        let capacity = dataCapacity(version: version)
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var data = bits.bytes
        var pad: UInt8 = 0xEC
        while data.count * 8 < capacity {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }

        let total = layout.dataModuleCount / 8
        let blocks = blockCount[version]
        let ecc = eccPerBlock[version]
        let shortLength = total / blocks
        let longBlocks = total % blocks
        let generator = ReedSolomon.generator(degree: ecc)
        var dataBlocks: [[UInt8]] = []
        var eccBlocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blocks {
            // The last `longBlocks` blocks hold one data codeword more.
            let length = shortLength - ecc + (index >= blocks - longBlocks ? 1 : 0)
            let block = Array(data[offset..<offset + length])
            offset += length
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.remainder(block, generator: generator))
        }
        var result: [UInt8] = []
        result.reserveCapacity(total)
        for column in 0..<(shortLength - ecc + 1) {
            for block in dataBlocks where column < block.count { result.append(block[column]) }
        }
        for column in 0..<ecc {
            for block in eccBlocks { result.append(block[column]) }
        }
        return result
    }

    /// Bits, most significant first.
    struct BitBuffer {
        private(set) var count = 0
        private(set) var bytes: [UInt8] = []

        mutating func append(_ value: Int, count bitCount: Int) {
            for shift in stride(from: bitCount - 1, through: 0, by: -1) {
                if count % 8 == 0 { bytes.append(0) }
                if (value >> shift) & 1 == 1 { bytes[count / 8] |= 0x80 >> UInt8(count % 8) }
                count += 1
            }
        }
    }
}
