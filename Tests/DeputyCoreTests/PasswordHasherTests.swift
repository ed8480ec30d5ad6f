import DeputyCore
import Testing

@Suite("Password hashing")
struct PasswordHasherTests {
    let hasher = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 1_000))

    @Test("a hash verifies its password and no other")
    func verifies() {
        let hash = hasher.hash("s3cret pass")
        #expect(hasher.verify("s3cret pass", against: hash))
        #expect(!hasher.verify("s3cret pasS", against: hash))
        #expect(!hasher.verify("", against: hash))
    }

    /// An empty password is never one: a hash of it, stored by an older build or written
    /// by hand, must not let an empty BIND in.
    @Test("an empty password matches nothing, not even a hash made of it")
    func emptyMatchesNothing() {
        #expect(!hasher.verify("", against: hasher.hash("")))
    }

    @Test("salts differ, so equal passwords give different hashes")
    func salted() {
        #expect(hasher.hash("same") != hasher.hash("same"))
    }

    @Test("the format names its algorithm and cost, so the cost can rise later")
    func selfDescribing() {
        let hash = hasher.hash("pw")
        #expect(hash.encoded.hasPrefix("$pbkdf2-sha256$i=1000$"))
        let stronger = PasswordHasher(algorithm: .pbkdf2SHA256(iterations: 2_000))
        #expect(stronger.verify("pw", against: hash))
        #expect(stronger.needsRehash(hash))
        #expect(!hasher.needsRehash(hash))
        #expect(PasswordHasher.standard.algorithm == .pbkdf2SHA256(iterations: 600_000))
    }

    @Test("scrypt hashes verify too")
    func scrypt() {
        let scrypt = PasswordHasher(algorithm: .scrypt(logN: 10, blockSize: 8, parallelism: 1))
        let hash = scrypt.hash("pw")
        #expect(hash.encoded.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        #expect(hasher.verify("pw", against: hash))
        #expect(!hasher.verify("px", against: hash))
    }

    @Test("malformed or abusive hash strings are refused")
    func malformed() {
        for text in ["", "plain", "$pbkdf2-sha256$i=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$pbkdf2-sha256$i=99999999999$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "$md5$x$y$z", "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
            "$scrypt$r=8,ln=4,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "$pbkdf2-sha256$i=+5$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
            "$pbkdf2-sha256$i=1000,x=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5$"] {
            #expect(PasswordHash(encoded: text) == nil, "\(text)")
        }
    }

    @Test("salt and key are unpadded standard base64 with zero trailing bits")
    func strictBase64() {
        let key = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
        #expect(PasswordHash(encoded: "$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0$\(key)") != nil)
        #expect(PasswordHash(encoded: "$pbkdf2-sha256$i=1000$c2FsdHNhbHRzYWx0AA$\(key)") != nil)
        for salt in ["c2FsdHNhbHRzYWx0AB", "c2FsdHNhbHRzYWx0A", "c2FsdHNhbHRzYWx0AA==", "c2FsdHNhbHRz-Wx0", "c2FsdHNhbHRz YWx0", "c2FsdHNhbHRzYWx0é"] {
            #expect(PasswordHash(encoded: "$pbkdf2-sha256$i=1000$\(salt)$\(key)") == nil, "\(salt)")
        }
        // Every length of salt the hasher might write decodes back to what verifies.
        for _ in 0..<20 {
            let hash = hasher.hash("pw")
            #expect(PasswordHash(encoded: hash.encoded) == hash)
            #expect(hasher.verify("pw", against: hash))
        }
    }

    @Test("a hash never shows itself in logs")
    func redacted() {
        let hash = hasher.hash("pw")
        #expect("\(hash)" == "<password hash>")
        #expect(!String(describing: hash).contains("pbkdf2"))
    }
}
