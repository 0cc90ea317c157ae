import Crypto
import Foundation

/// A short-lived, single-use code a resident shows as a QR to pay with points.
///
/// Text form: `<payload>.<signature>`, both base64url without padding. The payload is
/// `2|<codeID>|<expiresAt epoch seconds>|<sealed resident id>` and the signature is Ed25519 over
/// the payload bytes, so verification needs no database read and forged codes are turned away
/// before any work. The resident id is sealed with ChaCha20-Poly1305 under a key derived from the
/// signing key: whoever sees the QR (the shop, a bystander's camera) learns nothing about who is
/// paying, and two codes of the same resident cannot be linked. Single use is enforced by the
/// store's unique index on `codeID`.
public struct RedemptionCode: Sendable, Hashable {
    public var residentID: String
    /// 128 random bits, base64url: the code's own identity for single use.
    public var codeID: String
    public var expiresAt: Date

    public static let textLengthMax = 512

    public init(residentID: String, codeID: String, expiresAt: Date) {
        self.residentID = residentID
        self.codeID = codeID
        self.expiresAt = expiresAt
    }
}

public enum RedemptionCodeError: Error, Sendable, Equatable {
    /// Not a code Ayumi issued: malformed, or the signature does not verify.
    case forged
    case expired
}

/// Signs and verifies codes with the program's Ed25519 key, and seals the resident id inside them.
public struct CodeSigner: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey
    let sealingKey: SymmetricKey

    /// - Parameter rawKey: the 32-byte private key, kept in the database's meta table.
    public init(rawKey: Data) throws {
        privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
        sealingKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: rawKey),
                                            info: Data("ayumi redemption code resident v2".utf8), outputByteCount: 32)
    }

    public static func newRawKey() -> Data { Curve25519.Signing.PrivateKey().rawRepresentation }

    /// The nonce is derived from the code id, which is random and used once.
    static func nonce(codeID: String) throws -> ChaChaPoly.Nonce {
        try ChaChaPoly.Nonce(data: Data(SHA256.hash(data: Data(codeID.utf8)).prefix(12)))
    }

    public func issue(residentID: String, codeID: String, expiresAt: Date) throws -> String {
        let sealed = try ChaChaPoly.seal(Data(residentID.utf8), using: sealingKey, nonce: Self.nonce(codeID: codeID))
        let payload = Data("2|\(codeID)|\(Int64(expiresAt.timeIntervalSince1970))|\(Base64URL.encode(sealed.ciphertext + sealed.tag))".utf8)
        let signature = try privateKey.signature(for: payload)
        return Base64URL.encode(payload) + "." + Base64URL.encode(signature)
    }

    /// Checks the signature first, then the expiry against `now`.
    public func verify(_ text: String, now: Date) throws(RedemptionCodeError) -> RedemptionCode {
        guard text.utf8.count <= RedemptionCode.textLengthMax else { throw .forged }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64URL.decode(String(parts[0])), let signature = Base64URL.decode(String(parts[1])),
              privateKey.publicKey.isValidSignature(signature, for: payload) else { throw .forged }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "2", let expires = Int64(fields[2]),
              let sealed = Base64URL.decode(String(fields[3])), sealed.count > 16,
              let box = try? ChaChaPoly.SealedBox(nonce: Self.nonce(codeID: String(fields[1])), ciphertext: sealed.dropLast(16),
                                                  tag: sealed.suffix(16)),
              let resident = try? ChaChaPoly.open(box, using: sealingKey) else { throw .forged }
        let code = RedemptionCode(residentID: String(decoding: resident, as: UTF8.self), codeID: String(fields[1]),
                                  expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
        guard now < code.expiresAt else { throw .expired }
        return code
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
