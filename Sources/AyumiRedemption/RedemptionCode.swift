import Crypto
import Foundation

/// A short-lived, single-use code a resident shows as a QR to pay with points.
///
/// Binary form (90 bytes), written in RFC 4648 Base32 without padding (144 characters of `A-Z2-7`,
/// so the QR uses alphanumeric mode and a keyboard-wedge scanner types it without case trouble):
///
/// | bytes | content |
/// |---|---|
/// | 0 | format, 3 |
/// | 1 | signing key id (the low byte of the key's number: keys rotate, old ones keep verifying) |
/// | 2-5 | expiry, seconds since 1970, big-endian |
/// | 6-17 | code id: 96 random bits, the code's own identity for single use |
/// | 18-25 | the resident reference (the store's number for the resident), sealed |
/// | 26-89 | Ed25519 signature over bytes 0-25 |
///
/// Verification needs no database read and forged codes are turned away before any work. The
/// reference is sealed with ChaCha20 under a key derived from the signing key, with the code id as
/// the nonce: whoever sees the QR (the shop, a bystander's camera) learns nothing about who is
/// paying, and two codes of the same resident cannot be linked. The signature covers the sealed
/// bytes, so they cannot be altered. Single use is enforced by the store's unique index on the
/// code id.
public struct RedemptionCode: Sendable, Hashable {
    /// The store's number for the resident (never the resident's id, which may be personal).
    public var residentReference: Int64
    /// The 12 random bytes in Base32 (20 characters).
    public var codeID: String
    public var expiresAt: Date
    /// The number of the key that signed it.
    public var keyID: Int64

    static let format: UInt8 = 3
    static let signedCount = 26
    public static let byteCount = 90
    /// Base32 characters of a code: 90 bytes × 8 / 5, rounded up.
    public static let textLength = 144

    public init(residentReference: Int64, codeID: String, expiresAt: Date, keyID: Int64) {
        self.residentReference = residentReference
        self.codeID = codeID
        self.expiresAt = expiresAt
        self.keyID = keyID
    }
}

public enum RedemptionCodeError: Error, Sendable, Equatable {
    /// Not a code Ayumi issued: malformed, or the signature does not verify.
    case forged
    case expired
    /// Signed by a key this signer does not hold (perhaps one rotated in since it was loaded).
    case unknownKey
}

/// One signing key: its number in the store, its 32 raw bytes, and when it was made.
public struct SigningKey: Sendable, Hashable {
    public var id: Int64
    public var raw: Data
    public var createdAt: Date

    public init(id: Int64, raw: Data, createdAt: Date = .distantPast) {
        self.id = id
        self.raw = raw
        self.createdAt = createdAt
    }
}

/// Signs codes with the newest of the program's Ed25519 keys and verifies them with whichever key
/// signed them, sealing the resident reference inside.
public struct CodeSigner: Sendable {
    struct Key: Sendable {
        let id: Int64
        let privateKey: Curve25519.Signing.PrivateKey
        let sealingKey: SymmetricKey
        /// When the key stops verifying: the longest a code lives after the next key was made (a
        /// key rotated out because it leaked forges nothing after that). Nil for the newest key.
        let retiresAt: Date?
    }

    /// The longest a code may live (program.yaml's `redemptionCodeTTLSeconds` is at most this): a
    /// code claiming a later expiry was not issued here.
    public static let codeLifetimeMax: TimeInterval = 3_600

    /// Oldest first; codes are issued with the last.
    let keys: [Key]

    /// - Parameter keys: every key kept, oldest first (at least one).
    public init(keys: [SigningKey]) throws {
        precondition(!keys.isEmpty, "a signer needs a key")
        self.keys = try keys.enumerated().map { index, key in
            Key(id: key.id, privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: key.raw),
                sealingKey: HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key.raw),
                                                   info: Data("ayumi redemption code resident v3".utf8), outputByteCount: 32),
                retiresAt: index + 1 < keys.count ? keys[index + 1].createdAt.addingTimeInterval(Self.codeLifetimeMax) : nil)
        }
    }

    public static func newRawKey() -> Data { Curve25519.Signing.PrivateKey().rawRepresentation }

    /// The number of the key new codes are signed with.
    public var currentKeyID: Int64 { keys.last!.id }

    /// ChaCha20's keystream for 8 bytes under the code id as nonce (the AEAD's ciphertext of zeros;
    /// its tag is not needed: the signature covers the sealed bytes).
    static func keystream(_ key: Key, codeID: some DataProtocol) throws -> [UInt8] {
        let sealed = try ChaChaPoly.seal(Data(count: 8), using: key.sealingKey, nonce: ChaChaPoly.Nonce(data: Data(codeID)))
        return Array(sealed.ciphertext)
    }

    /// - Parameter codeID: 12 random bytes.
    public func issue(residentReference: Int64, codeID: [UInt8], expiresAt: Date) throws -> String {
        precondition(codeID.count == 12, "a code id is 12 bytes")
        let key = keys.last!
        var bytes: [UInt8] = [RedemptionCode.format, UInt8(truncatingIfNeeded: key.id)]
        let expiry = UInt32(clamping: Int64(expiresAt.timeIntervalSince1970.rounded(.down)))
        bytes += withUnsafeBytes(of: expiry.bigEndian, Array.init)
        bytes += codeID
        let reference = withUnsafeBytes(of: UInt64(bitPattern: residentReference).bigEndian, Array.init)
        bytes += zip(reference, try Self.keystream(key, codeID: codeID)).map { $0 ^ $1 }
        bytes += try key.privateKey.signature(for: Data(bytes))
        return Base32.encode(bytes)
    }

    /// Checks the form and the signature first, then, against `now`, that the key is not retired,
    /// that the expiry is not further than a code lives, and that it has not passed. `now` nil checks
    /// the signature only (a code seen before: its QR, or the retry of a redemption made with it).
    /// Lowercase letters are read as uppercase (a scanner with caps lock on).
    public func verify(_ text: String, now: Date?) throws(RedemptionCodeError) -> RedemptionCode {
        guard text.utf8.count == RedemptionCode.textLength, let bytes = Base32.decode(text.uppercased()),
              bytes.count == RedemptionCode.byteCount, bytes[0] == RedemptionCode.format else { throw .forged }
        // The newest key whose low byte matches: a code lives minutes, rotations are months apart.
        guard let key = keys.last(where: { UInt8(truncatingIfNeeded: $0.id) == bytes[1] }) else { throw .unknownKey }
        let signed = Data(bytes[0..<RedemptionCode.signedCount])
        guard key.privateKey.publicKey.isValidSignature(Data(bytes[RedemptionCode.signedCount...]), for: signed) else { throw .forged }
        // A retired key, or an expiry no code issued now could have: not a code of this service.
        if let now, let retiresAt = key.retiresAt, now >= retiresAt { throw .forged }
        let codeID = bytes[6..<18]
        guard let stream = try? Self.keystream(key, codeID: codeID) else { throw .forged }
        let reference = zip(bytes[18..<26], stream).reduce(UInt64(0)) { $0 << 8 | UInt64($1.0 ^ $1.1) }
        let expiry = bytes[2..<6].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let code = RedemptionCode(residentReference: Int64(bitPattern: reference), codeID: Base32.encode(Array(codeID)),
                                  expiresAt: Date(timeIntervalSince1970: TimeInterval(expiry)), keyID: key.id)
        guard let now else { return code }
        guard code.expiresAt.timeIntervalSince(now) <= Self.codeLifetimeMax else { throw .forged }
        guard now < code.expiresAt else { throw .expired }
        return code
    }
}

/// RFC 4648 Base32 (`A-Z2-7`), without padding.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var result: [UInt8] = []
        result.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                result.append(alphabet[Int(buffer >> UInt32(bits) & 31)])
            }
        }
        if bits > 0 { result.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: result, as: UTF8.self)
    }

    /// Nil for a character outside the alphabet or bits left over that are not zero.
    public static func decode(_ text: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count * 5 / 8)
        var buffer: UInt32 = 0, bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = character - UInt8(ascii: "2") + 26
            default: return nil
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                result.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        guard bits < 5, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return result
    }
}

public enum Base64URL {
    public static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
