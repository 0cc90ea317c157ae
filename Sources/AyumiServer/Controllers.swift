import AyumiCore
import AyumiRedemption
import AyumiServices
import AyumiStore
import Foundation
import Hummingbird

struct ResidentController {
    let residents: Residents
    let auth: Authenticator

    struct EnrolmentBody: Decodable {
        var resident: String
        var birthYear: Int
        var district: String

        enum CodingKeys: String, CodingKey, CaseIterable { case resident, birthYear, district }

        /// Nothing but these three is accepted: a name, an address or an e-mail sent along is
        /// refused, not silently dropped, so a client learns not to collect them.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            if let extra = container.allKeys.first(where: { CodingKeys(rawValue: $0.stringValue) == nil }) {
                throw AyumiError.invalidRequest("\(extra.stringValue): not accepted; a resident is a pseudonymous id, a birth year and a district code")
            }
            let known = try decoder.container(keyedBy: CodingKeys.self)
            resident = try known.decode(String.self, forKey: .resident)
            birthYear = try known.decode(Int.self, forKey: .birthYear)
            district = try known.decode(String.self, forKey: .district)
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: enrol)                 // POST /v1/residents
        group.put(":resident/labels", use: label)   // PUT /v1/residents/{resident}/labels
    }

    @Sendable func label(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        struct Body: Decodable { var tags: [String]; var consents: [String] }
        let body = try await HTTP.decode(Body.self, from: request, bytesMax: 16_384)
        let id = try context.parameters.require("resident")
        let resident = try await residents.label(residentID: id, tags: body.tags, consents: body.consents)
        struct Answer: Encodable { var resident: String; var tags: [String]; var consents: [String] }
        return try HTTP.json(Answer(resident: resident.id, tags: resident.tags, consents: resident.consents))
    }

    @Sendable func enrol(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        let body = try await HTTP.decode(EnrolmentBody.self, from: request, bytesMax: 4_096)
        let (resident, token) = try await residents.enrol(residentID: body.resident, birthYear: body.birthYear, district: body.district)
        struct Answer: Encodable { var resident: String; var birthYear: Int; var district: String; var enrolledOn: String; var token: String }
        return try HTTP.json(Answer(resident: resident.id, birthYear: resident.birthYear, district: resident.district,
                                    enrolledOn: resident.enrolledOn.description, token: token), status: .created)
    }
}

struct EventController {
    let ingestion: Ingestion
    let auth: Authenticator

    /// 1 MiB: about 1 KiB per event is far above any real event; the count is checked after decoding.
    static let bodyBytesMax = 1 << 20

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: ingest)   // POST /v1/events
    }

    @Sendable func ingest(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try await auth.principal(request, roles: [.ingest, .resident])
        let inputs = try await HTTP.decode([EventInput].self, from: request, bytesMax: Self.bodyBytesMax)
        guard !inputs.isEmpty else { throw AyumiError.invalidRequest("The body is an empty list; send 1 to \(Ingestion.eventsPerRequestMax) events.") }
        guard inputs.count <= Ingestion.eventsPerRequestMax else {
            throw AyumiError.tooManyEvents(count: inputs.count, max: Ingestion.eventsPerRequestMax)
        }
        let events = try inputs.enumerated().map { index, input in try input.event(index: index) }
        let results = try await ingestion.ingest(events, by: principal)
        let language = HTTP.language(request)
        struct AwardAnswer: Encodable { var rule: String; var rulesetVersion: String; var points: Int64; var reason: String; var availableOn: String? }
        struct ResultAnswer: Encodable { var id: String; var status: String; var awards: [AwardAnswer]; var reason: String? }
        struct Answer: Encodable { var results: [ResultAnswer] }
        return try HTTP.json(Answer(results: results.map { result in
            ResultAnswer(id: result.eventID, status: result.status.rawValue, awards: result.awards.map {
                AwardAnswer(rule: $0.ruleID, rulesetVersion: $0.rulesetVersion, points: $0.points, reason: $0.reason.text(language),
                            availableOn: $0.availableOn?.description)
            }, reason: result.reason?.text(language))
        }))
    }
}

struct MeController {
    let accounts: Accounts
    let redemptions: Redemptions
    let auth: Authenticator

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get("balance", use: balance)
        group.get("history", use: history)
        group.post("redemption-codes", use: issueCode)
        group.get("redemption-codes/:code/qr.png", use: qrPNG)
        group.get("redemption-codes/:code/qr.svg", use: qrSVG)
    }

    @Sendable func balance(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let residentID = try await auth.resident(request)
        /// `pendingPoints` and `expiring` only when there are some: a balance without them answers as before.
        struct Expiring: Encodable { var lastDay: String; var points: Int64 }
        struct Answer: Encodable { var points: Int64; var expiredPoints: Int64; var pendingPoints: Int64?; var expiring: [Expiring]? }
        let balance = try await accounts.balance(residentID: residentID)
        return try HTTP.json(Answer(points: balance.spendable, expiredPoints: balance.pastExpiry, pendingPoints: balance.pending > 0 ? balance.pending : nil,
                                    expiring: balance.expiring.isEmpty ? nil
                                        : balance.expiring.map { Expiring(lastDay: $0.lastDay.description, points: $0.points) }))
    }

    @Sendable func history(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let residentID = try await auth.resident(request)
        let query = request.uri.queryParameters
        let limitText = query["limit"].map(String.init) ?? "20"
        guard let limit = Int(limitText) else { throw AyumiError.invalidRequest("limit: a whole number") }
        let (entries, next) = try await accounts.history(residentID: residentID, cursor: query["cursor"].map(String.init), limit: limit)
        let language = HTTP.language(request)
        struct Entry: Encodable {
            var id: String, kind: String, points: Int64, rule: String?, rulesetVersion: String?, merchant: String?
            var reason: String, date: String, at: String
            var availableOn: String?
        }
        struct Answer: Encodable { var entries: [Entry]; var nextCursor: String? }
        return try HTTP.json(Answer(entries: entries.map {
            Entry(id: String($0.id), kind: $0.kind.rawValue, points: $0.points, rule: $0.ruleID, rulesetVersion: $0.rulesetVersion,
                  merchant: $0.merchantID, reason: $0.reason.text(language), date: $0.localDate.description, at: HTTP.iso8601($0.createdAt),
                  availableOn: $0.availableOn?.description)
        }, nextCursor: next))
    }

    @Sendable func issueCode(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let residentID = try await auth.resident(request)
        let issued = try await redemptions.issueCode(residentID: residentID)
        struct Answer: Encodable { var code: String, number: String, expiresAt: String, qrPng: String, qrSvg: String }
        let base = "/v1/me/redemption-codes/\(issued.code)"
        return try HTTP.json(Answer(code: issued.code, number: issued.number, expiresAt: HTTP.iso8601(issued.expiresAt),
                                    qrPng: base + "/qr.png", qrSvg: base + "/qr.svg"), status: .created)
    }

    @Sendable func qrPNG(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let qr = try await qrCode(request, context: context)
        return Self.image(ByteBuffer(bytes: qr.png()), type: "image/png")
    }

    @Sendable func qrSVG(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let qr = try await qrCode(request, context: context)
        return Self.image(ByteBuffer(string: qr.svg()), type: "image/svg+xml")
    }

    func qrCode(_ request: Request, context: BasicRequestContext) async throws -> QRCode {
        let residentID = try await auth.resident(request)
        guard let code = context.parameters.get("code") else { throw AyumiError.notFound("The code") }
        return try await redemptions.qrCode(code, residentID: residentID)
    }

    static func image(_ buffer: ByteBuffer, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        // A code is valid for two minutes and single-use: no cache may keep it.
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }
}

struct RedemptionController {
    let redemptions: Redemptions
    let auth: Authenticator

    struct RedemptionBody: Decodable { var code: String; var points: Int64; var idempotencyKey: String; var pin: String? }
    struct RefundBody: Decodable { var points: Int64?; var idempotencyKey: String }
    struct Share: Encodable { var sponsor: String; var points: Int64 }

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.post(use: redeem)   // POST /v1/redemptions
        group.post(":id/refund", use: refund)   // POST /v1/redemptions/{id}/refund
    }

    /// All or part of a redemption back, by the till that took it.
    @Sendable func refund(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let merchantID = try await auth.principal(request, roles: [.merchant]).subject!
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw AyumiError.unknownRedemption(context.parameters.get("id") ?? "")
        }
        let body = try await HTTP.decode(RefundBody.self, from: request, bytesMax: 4_096)
        let record = try await redemptions.refund(merchantID: merchantID, redemptionID: id, points: body.points, idempotencyKey: body.idempotencyKey)
        struct Answer: Encodable {
            var id: String, redemption: String, merchant: String, points: Int64, idempotencyKey: String, funding: [Share], expired: [Share]
            var refundable: Int64, at: String
        }
        return try HTTP.json(Answer(id: String(record.id), redemption: String(record.redemptionID), merchant: record.merchantID,
                                    points: record.points, idempotencyKey: record.idempotencyKey,
                                    funding: record.funding.map { Share(sponsor: $0.sponsorID, points: $0.points) },
                                    expired: record.expired.map { Share(sponsor: $0.sponsorID, points: $0.points) },
                                    refundable: record.refundable, at: HTTP.iso8601(record.createdAt)), status: .created)
    }

    @Sendable func redeem(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let merchantID = try await auth.principal(request, roles: [.merchant]).subject!
        let body = try await HTTP.decode(RedemptionBody.self, from: request, bytesMax: 4_096)
        let record = try await redemptions.redeem(merchantID: merchantID, code: body.code, points: body.points, idempotencyKey: body.idempotencyKey,
                                                  pin: body.pin)
        struct Answer: Encodable {
            var id: String, merchant: String, points: Int64, idempotencyKey: String, funding: [Share], at: String
        }
        // Neither the resident's id nor their balance is returned: the till needs the outcome only.
        return try HTTP.json(Answer(id: String(record.id), merchant: record.merchantID, points: record.points,
                                    idempotencyKey: record.idempotencyKey,
                                    funding: record.funding.map { Share(sponsor: $0.sponsorID, points: $0.points) },
                                    at: HTTP.iso8601(record.createdAt)), status: .created)
    }
}

struct ReportController {
    let reporting: Reporting
    let auth: Authenticator

    func addRoutes(to group: RouterGroup<BasicRequestContext>, admin: RouterGroup<BasicRequestContext>) {
        group.get("beneficiaries", use: beneficiaries)   // GET /v1/reports/beneficiaries (the first path, kept)
        group.get("kpis", use: kpis)                     // GET /v1/reports/kpis
        admin.get("beneficiaries", use: beneficiaries)   // GET /v1/admin/reports/beneficiaries
    }

    /// The same report as `ayumi report kpis`, for the city's staff (admin token): `format=html` is a
    /// page a browser shows as it is, the indicators' dashboard.
    @Sendable func kpis(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        let query = request.uri.queryParameters
        let report = try await reporting.kpis(from: query["from"].map(String.init) ?? "", to: query["to"].map(String.init) ?? "")
        return try ReportAnswer.response(request, report)
    }

    /// The same report as `ayumi report beneficiaries`, for the city's staff (admin token).
    @Sendable func beneficiaries(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        let query = request.uri.queryParameters
        guard let from = query["from"].flatMap({ LocalDate(String($0)) }) else { throw AyumiError.invalidRequest("from: a local day as YYYY-MM-DD") }
        guard let to = query["to"].flatMap({ LocalDate(String($0)) }) else { throw AyumiError.invalidRequest("to: a local day as YYYY-MM-DD") }
        let report = try await reporting.beneficiaryReport(from: from, to: to)
        return try ReportAnswer.response(request, report, defaultFormat: .csv)
    }
}
