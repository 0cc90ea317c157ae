import AyumiCore
import AyumiRedemption
import AyumiStore
import Foundation

/// Points out: single-use codes for residents, redemption at a shop's till.
public struct Redemptions: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    public static let redemptionPointsMax: Int64 = 1_000_000

    public struct IssuedCode: Sendable {
        public var code: String
        public var expiresAt: Date
    }

    public func issueCode(residentID: String) throws -> IssuedCode {
        let environment = dependencies.environment
        let ttl = dependencies.program.current.ruleset.program.redemptionCodeTTLSeconds
        let expiresAt = Date(timeIntervalSince1970: (environment.now().timeIntervalSince1970 + Double(ttl)).rounded(.down))
        let codeID = Base64URL.encode(Data(environment.randomBytes(16)))
        return IssuedCode(code: try dependencies.signer.issue(residentID: residentID, codeID: codeID, expiresAt: expiresAt),
                          expiresAt: expiresAt)
    }

    /// The QR symbol of one of the resident's own codes (an expired code is still drawn: the
    /// merchant's scan is what checks expiry).
    public func qrCode(_ text: String, residentID: String) throws -> QRCode {
        let code: RedemptionCode
        do {
            code = try dependencies.signer.verify(text, now: .distantPast)
        } catch {
            throw AyumiError.notFound("The code")
        }
        guard code.residentID == residentID else { throw AyumiError.notFound("The code") }
        return try QRCode(text: text)
    }

    public func redeem(merchantID: String, code text: String, points: Int64, idempotencyKey: String) async throws -> RedemptionRecord {
        guard Identifier.isValid(idempotencyKey) else { throw AyumiError.invalidRequest("idempotencyKey: 1-64 letters, digits or -_.:") }
        guard (1...Self.redemptionPointsMax).contains(points) else {
            throw AyumiError.invalidRequest("points: between 1 and \(Self.redemptionPointsMax)")
        }
        let program = dependencies.program.current
        guard program.merchants[merchantID]?.active == true else { throw AyumiError.unknownMerchant(merchantID) }
        let store = dependencies.store
        let now = dependencies.environment.now()
        let code: RedemptionCode
        do {
            code = try dependencies.signer.verify(text, now: now)
        } catch {
            // A retry with the same key answers as the first time, even after the code has expired.
            // (A valid code's retry is answered by the store, which checks the key inside the write.)
            if let earlier = try await store.redemption(merchantID: merchantID, idempotencyKey: idempotencyKey) {
                return try sameRequest(earlier, code: text, points: points)
            }
            switch error {
            case .forged: throw AyumiError.codeForged
            case .expired: throw AyumiError.codeExpired
            }
        }
        let request = RedemptionRequest(
            merchantID: merchantID, idempotencyKey: idempotencyKey, codeID: code.codeID, residentID: code.residentID, points: points,
            localDate: LocalDate(instant: now, timeZone: program.evaluator.timeZone), at: now)
        do {
            let record = try await store.redeem(request)
            dependencies.logger.info("Redemption accepted", metadata: ["redemption.id": "\(record.id)", "merchant.id": "\(merchantID)"])
            return record
        } catch let error as StoreError {
            throw AyumiError(error, request: request)
        }
    }

    func sameRequest(_ earlier: RedemptionRecord, code text: String, points: Int64) throws -> RedemptionRecord {
        let code = try? dependencies.signer.verify(text, now: .distantPast)
        guard code?.codeID == earlier.codeID, points == earlier.points else { throw AyumiError.idempotencyKeyReused }
        return earlier
    }
}
