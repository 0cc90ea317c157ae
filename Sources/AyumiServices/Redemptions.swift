import AyumiCore
import AyumiRedemption
import AyumiStore
import Foundation
import Synchronization

/// Points out: single-use codes for residents, redemption at a shop's till.
public struct Redemptions: Sendable {
    let dependencies: Dependencies
    let attempts: NumberAttempts

    public init(_ dependencies: Dependencies) {
        self.dependencies = dependencies
        attempts = NumberAttempts()
    }

    public static let redemptionPointsMax: Int64 = 1_000_000

    public struct IssuedCode: Sendable {
        /// 144 characters of Base32, shown as a QR.
        public var code: String
        /// 12 digits a cashier can type when the QR cannot be read (the last is a check digit).
        public var number: String
        public var expiresAt: Date
    }

    public func issueCode(residentID: String) async throws -> IssuedCode {
        let environment = dependencies.environment, store = dependencies.store
        guard let reference = try await store.residentReference(residentID) else { throw AyumiError.unknownResident(residentID) }
        let now = environment.now()
        let ttl = dependencies.program.current.ruleset.program.redemptionCodeTTLSeconds
        let expiresAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + Double(ttl)).rounded(.down))
        let code = try dependencies.signer.current.issue(residentReference: reference, codeID: environment.randomBytes(12), expiresAt: expiresAt)
        // 10^11 numbers: a clash with a code still kept is rare, and another draw settles it.
        for _ in 0..<8 {
            let number = CodeNumber.make(random: environment.randomBytes(8))
            if try await store.keepCodeNumber(number, code: code, expiresAt: expiresAt, at: now) {
                return IssuedCode(code: code, number: number, expiresAt: expiresAt)
            }
        }
        throw AyumiError.busy
    }

    /// The QR symbol of one of the resident's own codes (an expired code is still drawn: the
    /// merchant's scan is what checks expiry).
    public func qrCode(_ text: String, residentID: String) async throws -> QRCode {
        guard case .success(let code) = try await verify(text, now: nil),
              try await dependencies.store.residentReference(residentID) == code.residentReference else {
            throw AyumiError.notFound("The code")
        }
        return try QRCode(text: text)
    }

    /// Verifies with the keys loaded, and once more with the keys in the store when the code names a
    /// key rotated in since (by `ayumi keys rotate` beside this process).
    func verify(_ text: String, now: Date?) async throws -> Result<RedemptionCode, RedemptionCodeError> {
        do {
            return .success(try dependencies.signer.current.verify(text, now: now))
        } catch .unknownKey {
            guard dependencies.signer.mayLookForKeys(now: dependencies.environment.now()) else { return .failure(.forged) }
            try await reloadSigningKeys()
            do { return .success(try dependencies.signer.current.verify(text, now: now)) } catch .unknownKey { return .failure(.forged) } catch {
                return .failure(error)
            }
        } catch {
            return .failure(error)
        }
    }

    /// Loads the keys kept in the store; true when a new one came in.
    @discardableResult
    public func reloadSigningKeys() async throws -> Bool {
        let keys = try await dependencies.store.signingKeys(createIfNone: nil, at: dependencies.environment.now())
        guard let newest = keys.last, newest.id != dependencies.signer.current.currentKeyID else { return false }
        dependencies.signer.replace(with: try CodeSigner(stored: keys))
        dependencies.logger.info("Signing keys loaded", metadata: ["key.id": "\(newest.id)"])
        return true
    }

    /// Adds a new signing key: codes are signed with it from now on (by this process at once, by a
    /// server beside it within 10 s), and codes signed with older keys stay valid until they expire.
    public func rotateSigningKey() async throws -> StoredSigningKey {
        let keys = try await dependencies.store.addSigningKey(CodeSigner.newRawKey(), at: dependencies.environment.now())
        dependencies.signer.replace(with: try CodeSigner(stored: keys))
        dependencies.logger.info("Signing key rotated", metadata: ["key.id": "\(keys.last!.id)"])
        return keys.last!
    }

    /// Redeems a code, the 12-digit number issued with it, or a resident's card with its PIN.
    public func redeem(merchantID: String, code input: String, points: Int64, idempotencyKey: String, pin: String? = nil) async throws -> RedemptionRecord {
        guard Identifier.isValid(idempotencyKey) else { throw AyumiError.invalidRequest("idempotencyKey: 1-64 letters, digits or -_.:") }
        guard (1...Self.redemptionPointsMax).contains(points) else {
            throw AyumiError.invalidRequest("points: between 1 and \(Self.redemptionPointsMax)")
        }
        let program = dependencies.program.current
        try Self.checkTakesPoints(program.merchants[merchantID], merchantID)
        let store = dependencies.store
        let now = dependencies.environment.now()
        let localDate = LocalDate(instant: now, timeZone: program.evaluator.timeZone)
        if CardNumber.looksLikeOne(input) {
            let holder = try await cardHolder(input, pin: pin, merchantID: merchantID, idempotencyKey: idempotencyKey, now: now)
            let request = RedemptionRequest(merchantID: merchantID, idempotencyKey: idempotencyKey, codeID: holder.codeID,
                                            residentReference: holder.reference, points: points, localDate: localDate, at: now)
            return try await record(request)
        }
        let text = try await codeText(input, merchantID: merchantID, now: now)
        let code: RedemptionCode
        switch try await verify(text, now: now) {
        case .success(let verified):
            code = verified
        case .failure(let error):
            // A retry with the same key answers as the first time, even after the code has expired.
            // (A valid code's retry is answered by the store, which checks the key inside the write.)
            if let earlier = try await store.redemption(merchantID: merchantID, idempotencyKey: idempotencyKey) {
                return try await sameRequest(earlier, code: text, points: points)
            }
            throw error == .expired ? AyumiError.codeExpired : AyumiError.codeForged
        }
        return try await record(RedemptionRequest(
            merchantID: merchantID, idempotencyKey: idempotencyKey, codeID: code.codeID, residentReference: code.residentReference,
            points: points, localDate: localDate, at: now))
    }

    func record(_ request: RedemptionRequest) async throws -> RedemptionRecord {
        do {
            let record = try await dependencies.store.redeem(request)
            dependencies.logger.info("Redemption accepted", metadata: ["redemption.id": "\(record.id)", "merchant.id": "\(request.merchantID)"])
            return record
        } catch let error as StoreError {
            throw AyumiError(error, merchantID: request.merchantID, points: request.points)
        }
    }

    /// The till's redemptions of today (local day), newest first, with what was refunded of each.
    public func today(merchantID: String) async throws -> [MerchantRedemption] {
        try await dependencies.store.redemptions(merchantID: merchantID, on: dependencies.today)
    }

    /// Gives back all or part of a redemption this till made, within the program's refundDaysMax:
    /// the points return to the lots they came from, with their expiry (to the sponsor for a lot
    /// past it). `points` nil refunds everything left.
    public func refund(merchantID: String, redemptionID: Int64, points: Int64?, idempotencyKey: String) async throws -> RefundRecord {
        guard Identifier.isValid(idempotencyKey) else { throw AyumiError.invalidRequest("idempotencyKey: 1-64 letters, digits or -_.:") }
        if let points, !(1...Self.redemptionPointsMax).contains(points) {
            throw AyumiError.invalidRequest("points: between 1 and \(Self.redemptionPointsMax)")
        }
        let program = dependencies.program.current
        try Self.checkTakesPoints(program.merchants[merchantID], merchantID)
        let now = dependencies.environment.now()
        let request = RefundRequest(merchantID: merchantID, redemptionID: redemptionID, idempotencyKey: idempotencyKey, points: points,
                                    localDate: LocalDate(instant: now, timeZone: program.evaluator.timeZone),
                                    refundDaysMax: program.ruleset.program.refundDays, at: now)
        do {
            let record = try await dependencies.store.refund(request)
            dependencies.logger.info("Refund made", metadata: ["refund.id": "\(record.id)", "redemption.id": "\(redemptionID)", "merchant.id": "\(merchantID)"])
            return record
        } catch let error as StoreError {
            throw AyumiError(error, merchantID: merchantID, points: points ?? 0, redemptionID: redemptionID)
        }
    }

    /// A merchant no longer in the registry is unknown; a suspended one is told so (the store checks
    /// both again inside its write).
    static func checkTakesPoints(_ merchant: Merchant?, _ merchantID: String) throws {
        guard let merchant, merchant.active else { throw AyumiError.unknownMerchant(merchantID) }
        guard !merchant.suspended else { throw AyumiError.merchantSuspended(merchantID) }
    }

    /// The code behind what the till sent: the code itself, or the one issued with a 12-digit number.
    func codeText(_ input: String, merchantID: String, now: Date) async throws -> String {
        guard CodeNumber.looksLikeOne(input) else { return input }
        guard CodeNumber.checks(input) else { throw AyumiError.codeNumberMistyped }
        // Counted before the lookup, given back when the number is known: lookups sent at once
        // cannot pass the limit.
        if let wait = attempts.reserve(merchantID: merchantID, now: now) { throw AyumiError.tooManyAttempts(retryAfterSeconds: wait) }
        guard let code = try await dependencies.store.code(number: input) else {
            dependencies.logger.notice("Unknown code number", metadata: ["merchant.id": "\(merchantID)"])
            throw AyumiError.codeNumberUnknown
        }
        attempts.release(merchantID: merchantID, now: now)
        return code
    }

    func sameRequest(_ earlier: RedemptionRecord, code text: String, points: Int64) async throws -> RedemptionRecord {
        guard case .success(let code) = try await verify(text, now: nil), code.codeID == earlier.codeID, points == earlier.points else {
            throw AyumiError.idempotencyKeyReused
        }
        return earlier
    }
}

/// The 12-digit fallback of a code: 11 random digits and a Luhn check digit, so a mistyped digit or
/// two swapped neighbours are caught at the till before they count as a guess.
enum CodeNumber {
    static func make(random: [UInt8]) -> String {
        let value = random.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 100_000_000_000
        let digits = String(value)
        let body = String(repeating: "0", count: 11 - digits.count) + digits
        return body + String(checkDigit(body))
    }

    static func looksLikeOne(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    static func checks(_ number: String) -> Bool {
        checkDigit(String(number.prefix(11))) == Int(number.utf8.last! - UInt8(ascii: "0"))
    }

    /// Luhn: from the right, every second digit doubled (its digits summed).
    static func checkDigit(_ body: String) -> Int {
        var sum = 0
        for (index, byte) in body.utf8.reversed().enumerated() {
            var digit = Int(byte - UInt8(ascii: "0"))
            if index % 2 == 0 {
                digit *= 2
                if digit > 9 { digit -= 9 }
            }
            sum += digit
        }
        return (10 - sum % 10) % 10
    }
}

/// Unknown numbers (of codes and cards) per till, in this server process: at most `limit` in
/// `window` seconds. With 10^11 code numbers and a few hundred codes valid at once, a till guessing
/// at that pace needs centuries to hit one. A try is counted before its lookup and given back when
/// the number turns out known, so tries sent at once cannot pass the limit.
final class NumberAttempts: Sendable {
    static let limit = 10
    static let window: TimeInterval = 600

    private let tries = Mutex<[String: [Date]]>([:])

    /// Counts a try; seconds to wait instead when the till is at its limit.
    func reserve(merchantID: String, now: Date) -> Int? {
        tries.withLock { all in
            let recent = (all[merchantID] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            guard recent.count < Self.limit else {
                all[merchantID] = recent
                return max(1, Int((Self.window - now.timeIntervalSince(recent.first!)).rounded(.up)))
            }
            all[merchantID] = recent + [now]
            return nil
        }
    }

    /// Gives back a try whose number was known.
    func release(merchantID: String, now: Date) {
        tries.withLock { all in
            if let index = all[merchantID]?.lastIndex(of: now) { all[merchantID]!.remove(at: index) }
        }
    }
}
