import Crypto
import Foundation

/// A short-lived, single-use code a resident shows as a QR to pay with points.
///
/// Text form: `<payload>.<signature>`, both base64url without padding, where the payload is
/// `1|<residentID>|<codeID>|<expiresAt epoch seconds>` and the signature is Ed25519 over the payload
/// bytes. Verification needs no database read, so forged codes are turned away before any work;
/// single use is enforced by the store's unique index on `codeID`.
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

    var payload: String { "1|\(residentID)|\(codeID)|\(Int64(expiresAt.timeIntervalSince1970))" }
}

public enum RedemptionCodeError: Error, Sendable, Equatable {
    /// Not a code Ayumi issued: malformed, or the signature does not verify.
    case forged
    case expired
}

/// Signs and verifies codes with the program's Ed25519 key.
public struct CodeSigner: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey

    /// - Parameter rawKey: the 32-byte private key, kept in the database's meta table.
    public init(rawKey: Data) throws {
        privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
    }

    public static func newRawKey() -> Data { Curve25519.Signing.PrivateKey().rawRepresentation }

    public func issue(residentID: String, codeID: String, expiresAt: Date) throws -> String {
        let code = RedemptionCode(residentID: residentID, codeID: codeID, expiresAt: Date(timeIntervalSince1970: expiresAt.timeIntervalSince1970.rounded(.down)))
        let payload = Data(code.payload.utf8)
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
        guard fields.count == 4, fields[0] == "1", let expires = Int64(fields[3]) else { throw .forged }
        let code = RedemptionCode(residentID: String(fields[1]), codeID: String(fields[2]),
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
