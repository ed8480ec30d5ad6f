extension QRCode {
    /// Reed-Solomon codes over GF(2⁸) with the polynomial x⁸+x⁴+x³+x²+1, as QR codes use.
    enum ReedSolomon {
        static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
            var product = 0
            var a = Int(x)
            var b = Int(y)
            while b > 0 {
                if b & 1 == 1 { product ^= a }
                a <<= 1
                if a & 0x100 != 0 { a ^= 0x11D }
                b >>= 1
            }
            return UInt8(product)
        }

        /// The generator (x−α⁰)(x−α¹)…(x−α^(degree−1)), its coefficients from the highest
        /// power down, without the leading 1.
        static func generator(degree: Int) -> [UInt8] {
            var polynomial: [UInt8] = [1]
            var root: UInt8 = 1
            for _ in 0..<degree {
                // polynomial · (x + root): subtraction is addition in GF(2⁸).
                var product = [UInt8](repeating: 0, count: polynomial.count + 1)
                for (index, coefficient) in polynomial.enumerated() {
                    product[index] ^= coefficient
                    product[index + 1] ^= multiply(coefficient, root)
                }
                polynomial = product
                root = multiply(root, 2)
            }
            return Array(polynomial.dropFirst())
        }

        /// The remainder of `data`·x^degree divided by the generator: the error correction
        /// codewords.
        static func remainder(_ data: [UInt8], generator: [UInt8]) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: generator.count)
            for byte in data {
                let factor = byte ^ result[0]
                result.removeFirst()
                result.append(0)
                for index in result.indices { result[index] ^= multiply(generator[index], factor) }
            }
            return result
        }
    }
}
