import AyumiCore
import AyumiRedemption
import AyumiStore
import Crypto
import CryptoExtras
import Foundation

/// A printed card and a PIN, for residents without a smartphone: the card's QR code holds only its
/// number (never the resident), the PIN is kept only as a salted PBKDF2-SHA256 hash, and five wrong
/// PINs lock the card until the city office unlocks it. A new card replaces the old one.
public struct IssuedCard: Sendable {
    /// 16 digits, the last a Luhn check digit: what the card's QR code holds.
    public var number: String
    /// 4 digits, shown once, to hand to the resident apart from the card.
    public var pin: String
}

enum CardNumber {
    static func make(random: [UInt8]) -> String {
        let value = random.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 1_000_000_000_000_000
        let digits = String(value)
        let body = String(repeating: "0", count: 15 - digits.count) + digits
        return body + String(CodeNumber.checkDigit(body))
    }

    static func looksLikeOne(_ text: String) -> Bool {
        text.utf8.count == 16 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    static func checks(_ number: String) -> Bool {
        CodeNumber.checkDigit(String(number.prefix(15))) == Int(number.utf8.last! - UInt8(ascii: "0"))
    }

    /// `1234 5678 9012 3456`, as printed.
    static func grouped(_ number: String) -> String {
        stride(from: 0, to: number.count, by: 4).map { offset in
            String(number.dropFirst(offset).prefix(4))
        }.joined(separator: " ")
    }
}

enum PIN {
    /// OWASP's floor for PBKDF2-HMAC-SHA256: a PIN has only 10,000 values, so the hash slows an
    /// offline guess; the lock after five wrong tries is what stops guessing at the till.
    static let rounds = 210_000
    static let wrongTriesMax = 5

    static func hash(_ pin: String, salt: Data) throws -> String {
        let key = try KDF.Insecure.PBKDF2.deriveKey(from: Data(pin.utf8), salt: salt, using: .sha256, outputByteCount: 32, rounds: rounds)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// The hash on a thread of its own: 210,000 rounds take tens of milliseconds, which must not
    /// hold one of the few threads every request shares.
    static func hashOffThePool(_ pin: String, salt: Data) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try hash(pin, salt: salt) })
            }
        }
    }

    static func isValid(_ pin: String) -> Bool {
        pin.utf8.count == 4 && pin.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}

/// Printed cards for residents without a smartphone, issued and unlocked at the city office.
public struct Cards: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    /// Issues a card and a PIN to an enrolled resident; a card issued before stops working.
    public func issue(residentID: String) async throws -> IssuedCard {
        let random = dependencies.environment.randomBytes
        let pinValue = random(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } % 10_000
        let pin = String(repeating: "0", count: 4 - String(pinValue).count) + String(pinValue)
        let salt = Data(random(16))
        let hash = try PIN.hash(pin, salt: salt)
        for _ in 0..<8 {
            let number = CardNumber.make(random: random(8))
            do {
                if try await store.issueCard(NewCard(number: number, pinHash: hash, pinSalt: salt.base64EncodedString()), residentID: residentID,
                                             at: dependencies.environment.now()) {
                    dependencies.logger.notice("Card issued", metadata: ["resident.id": "\(residentID)"])
                    return IssuedCard(number: number, pin: pin)
                }
            } catch StoreError.unknownResident {
                throw AyumiError.unknownResident(residentID)
            }
        }
        throw AyumiError.busy
    }

    /// Unlocks the resident's card after wrong PINs (the city office, having seen the resident).
    public func unlock(residentID: String) async throws {
        guard try await store.unlockCard(residentID: residentID) else { throw AyumiError.notFound("A card of resident '\(residentID)'") }
        dependencies.logger.notice("Card unlocked", metadata: ["resident.id": "\(residentID)"])
    }
}

extension Redemptions {
    /// The resident behind a card, once its PIN is right; and the code id a redemption with it takes:
    /// the same for a retry of the same request (same till, key and card), new for any other.
    func cardHolder(_ number: String, pin: String?, merchantID: String, idempotencyKey: String, now: Date) async throws -> (reference: Int64, codeID: String) {
        guard CardNumber.checks(number) else { throw AyumiError.codeNumberMistyped }
        if let wait = attempts.reserve(merchantID: merchantID, now: now) { throw AyumiError.tooManyAttempts(retryAfterSeconds: wait) }
        let store = dependencies.store
        guard let known = try await store.card(number: number), !known.revoked else { throw AyumiError.cardUnknown }
        attempts.release(merchantID: merchantID, now: now)
        guard !known.locked else { throw AyumiError.cardLocked }
        guard let pin, !pin.isEmpty else { throw AyumiError.pinRequired }
        // The try is counted before the PIN is checked: tries sent at once cannot pass the lock.
        guard let card = try await store.chargePINTry(number: number, lockAfter: PIN.wrongTriesMax) else { throw AyumiError.cardLocked }
        guard let salt = Data(base64Encoded: card.pinSalt), PIN.isValid(pin), try await PIN.hashOffThePool(pin, salt: salt) == card.pinHash else {
            dependencies.logger.notice("Wrong card PIN", metadata: ["merchant.id": "\(merchantID)"])
            let left = PIN.wrongTriesMax - card.failures - 1
            if left <= 0 { throw AyumiError.cardLocked }
            throw AyumiError.pinWrong(triesLeft: left)
        }
        try await store.clearWrongPINs(number: number)
        let digest = SHA256.hash(data: Data("\(merchantID)|\(idempotencyKey)|\(number)".utf8))
        return (card.residentReference, "CARD" + Base32.encode(Array(digest.prefix(12))))
    }
}
