import AyumiCore
import AyumiServer
import AyumiServices
import AyumiTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// Runs `body` against the real router over a fresh database, with an admin, an ingest and a
/// merchant (shop-1) token already minted.
/// `logger` receives both the server's request log and what the use cases log.
func withServer(logger: Logger = Logger(label: "test"), rulesDirectory: String? = nil,
                _ body: @Sendable (TestContext) async throws -> Void) async throws {
    let fixture = try await Fixture.make(rulesDirectory: rulesDirectory, logger: logger)
    let context = TestContext(
        fixture: fixture,
        admin: try await fixture.ayumi.tokens.create(role: .admin, subject: nil),
        ingest: try await fixture.ayumi.tokens.create(role: .ingest, subject: nil, feed: "test-feed"),
        transit: try await fixture.ayumi.tokens.create(role: .ingest, subject: nil, feed: "metro-feed"),
        merchant: try await fixture.ayumi.tokens.create(role: .merchant, subject: "shop-1"))
    let app = buildApplication(ayumi: fixture.ayumi, host: "127.0.0.1", port: 0, logger: logger)
    try await app.test(.router) { client in
        try await body(context.with(client: client))
    }
}

@Suite("Answers of every kind")
struct NoSniffTests {
    @Test("every answer says nosniff: JSON, problem+json (401, 404, 405, 400) and a page")
    func nosniff() async throws {
        try await withServer { context in
            let answers = [
                try await context.call(.get, "/healthz", token: nil),
                try await context.call(.get, "/v1/me/balance", token: nil),
                try await context.call(.get, "/v1/no-such-route", token: nil),
                try await context.call(.delete, "/v1/events", token: context.ingest),
                try await context.call(.post, "/v1/events", token: context.ingest, json: "{not json"),
                try await context.call(.get, "/merchant", token: nil),
            ]
            #expect(answers.map(\.status.code) == [200, 401, 404, 405, 400, 200])
            for answer in answers { #expect(answer.headers[.xContentTypeOptions] == "nosniff", "\(answer.status)") }
        }
    }
}

struct TestContext: Sendable {
    let fixture: Fixture
    let admin: String
    /// A feed that may report walks only.
    let ingest: String
    /// The transit operator's feed, the one source of transit taps.
    let transit: String
    let merchant: String
    var client: (any TestClientProtocol)?

    func with(client: any TestClientProtocol) -> TestContext {
        var copy = self
        copy.client = client
        return copy
    }

    struct Answer {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var problemType: String? { json["type"] as? String }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil,
              language: String? = nil) async throws -> Answer {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let language { headers[.acceptLanguage] = language }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client!.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { response in
            Answer(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Enrols `id` over HTTP and returns the resident's token.
    func enrol(_ id: String) async throws -> String {
        let answer = try await call(.post, "/v1/residents", token: admin, json: #"{"resident":"\#(id)","birthYear":1950,"district":"14101"}"#)
        #expect(answer.status == .created)
        return answer.json["token"] as! String
    }

    func walk(_ id: String, _ resident: String, steps: Int) -> String {
        #"{"id":"\#(id)","kind":"walk","resident":"\#(resident)","date":"2026-11-25","steps":\#(steps),"source":"phone"}"#
    }
}

@Suite("HTTP API")
struct HTTPTests {
    @Test("the tour works end to end: enrol, walk, balance, history, code, QR, redeem")
    func tour() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-123")
            let events = try await server.call(.post, "/v1/events", token: resident, json: "[\(server.walk("w-1", "r-123", steps: 8_000))]")
            #expect(events.status == .ok)
            let result = (events.json["results"] as! [[String: Any]])[0]
            #expect(result["status"] as? String == "accepted")
            let award = (result["awards"] as! [[String: Any]])[0]
            #expect(award["points"] as? Int == 4)
            #expect(award["rule"] as? String == "walk-bands")
            #expect(award["reason"] as? String == "8000 steps on 2026-11-25 (1 point per 2,000 steps, up to 5 a day)")

            let balance = try await server.call(.get, "/v1/me/balance", token: resident)
            #expect(String(decoding: balance.body, as: UTF8.self) == #"{"expiredPoints":0,"points":4}"# + "\n")

            let history = try await server.call(.get, "/v1/me/history", token: resident, language: "ja")
            let entry = (history.json["entries"] as! [[String: Any]])[0]
            #expect(entry["rulesetVersion"] as? String == server.fixture.ayumi.dependencies.program.current.ruleset.version)
            #expect((entry["reason"] as? String)?.contains("8000歩") == true)

            let issued = try await server.call(.post, "/v1/me/redemption-codes", token: resident)
            #expect(issued.status == .created)
            let code = issued.json["code"] as! String
            #expect(issued.json["expiresAt"] as? String == "2026-11-25T03:02:00Z")

            let png = try await server.call(.get, issued.json["qrPng"] as! String, token: resident)
            #expect(png.headers[.contentType] == "image/png")
            #expect(try decodeQRCode(png: png.body) == code)
            let svg = try await server.call(.get, issued.json["qrSvg"] as! String, token: resident)
            #expect(svg.headers[.contentType] == "image/svg+xml")
            #expect(String(decoding: svg.body, as: UTF8.self).hasPrefix("<svg"))

            let redemption = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                                   json: #"{"code":"\#(code)","points":3,"idempotencyKey":"till-1"}"#)
            #expect(redemption.status == .created)
            #expect(redemption.json["points"] as? Int == 3)
            #expect(redemption.json["resident"] == nil)
            let after = try await server.call(.get, "/v1/me/balance", token: resident)
            #expect(after.json["points"] as? Int == 1)

            // The SVG, drawn as a browser would, reads back to the same code.
            #expect(try decodeQRCode(svg: String(decoding: svg.body, as: UTF8.self)) == code)
            // The 12-digit number stands in for the code at the till; a refund gives points back.
            let second = try await server.call(.post, "/v1/me/redemption-codes", token: resident)
            let number = second.json["number"] as! String
            let byNumber = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                                 json: #"{"code":"\#(number)","points":1,"idempotencyKey":"till-2"}"#)
            #expect(byNumber.status == .created)
            let id = redemption.json["id"] as! String
            let refund = try await server.call(.post, "/v1/redemptions/\(id)/refund", token: server.merchant,
                                               json: #"{"points":2,"idempotencyKey":"refund-1"}"#)
            #expect(refund.status == .created)
            #expect(refund.json["refundable"] as? Int == 1)
            #expect(try await server.call(.get, "/v1/me/balance", token: resident).json["points"] as? Int == 2)
            let tooMuch = try await server.call(.post, "/v1/redemptions/\(id)/refund", token: server.merchant,
                                                json: #"{"points":2,"idempotencyKey":"refund-2"}"#, language: "ja")
            #expect(tooMuch.status == .unprocessableContent)
            #expect(tooMuch.problemType == "urn:ayumi:problem:refund-exceeds-redemption")
            #expect(tooMuch.json["title"] as? String == "利用額を超える返金はできません")
            // The shop reads its own month: 3 + 1 taken, 2 given back, a draft until settled.
            let statement = try await server.call(.get, "/v1/merchant/settlements/2026-11", token: server.merchant)
            #expect(statement.status == .ok)
            #expect(statement.json["settled"] as? Bool == false)
            let statements = statement.json["statements"] as! [[String: Any]]
            #expect(statements.count == 1 && statements[0]["netPoints"] as? Int == 2 && statements[0]["redemptions"] as? Int == 2)
            let unknown = try await server.call(.post, "/v1/redemptions/424242/refund", token: server.merchant,
                                                json: #"{"idempotencyKey":"refund-3"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.problemType == "urn:ayumi:problem:unknown-redemption")
        }
    }

    @Test("a retried redemption answers the same; a reused code is 409, an expired or forged one 422")
    func redemptionErrors() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-1")
            try await server.call(.post, "/v1/events", token: server.ingest, json: "[\(server.walk("w-1", "r-1", steps: 10_000))]")
            let code = try await server.call(.post, "/v1/me/redemption-codes", token: resident).json["code"] as! String
            let body = #"{"code":"\#(code)","points":2,"idempotencyKey":"k-1"}"#
            let first = try await server.call(.post, "/v1/redemptions", token: server.merchant, json: body)
            let retry = try await server.call(.post, "/v1/redemptions", token: server.merchant, json: body)
            #expect(first.body == retry.body)
            #expect(try await server.call(.get, "/v1/me/balance", token: resident).json["points"] as? Int == 3)

            let reused = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                               json: #"{"code":"\#(code)","points":1,"idempotencyKey":"k-2"}"#)
            #expect(reused.status == .conflict)
            #expect(reused.problemType == "urn:ayumi:problem:code-already-used")
            #expect(reused.headers[.contentType] == "application/problem+json")

            let overdraw = try await server.call(.post, "/v1/me/redemption-codes", token: resident).json["code"] as! String
            let tooMuch = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                                json: #"{"code":"\#(overdraw)","points":4,"idempotencyKey":"k-3"}"#, language: "ja")
            #expect(tooMuch.status == .unprocessableContent)
            #expect(tooMuch.problemType == "urn:ayumi:problem:insufficient-points")
            #expect(tooMuch.json["title"] as? String == "ポイントが不足しています")

            var tampered = Array(overdraw)   // one character of the signature changed
            tampered[tampered.count - 20] = tampered[tampered.count - 20] == "A" ? "B" : "A"
            let forged = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                               json: #"{"code":"\#(String(tampered))","points":1,"idempotencyKey":"k-4"}"#)
            // The till's own credentials are fine: a bad code is 422, not 401.
            #expect(forged.status == .unprocessableContent)
            #expect(forged.problemType == "urn:ayumi:problem:code-forged")
            #expect(forged.headers[.wwwAuthenticate] == nil)
            let unreadable = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                                   json: #"{"code":"not a code","points":1,"idempotencyKey":"k-6"}"#)
            #expect(unreadable.status == .unprocessableContent)
            #expect(unreadable.problemType == "urn:ayumi:problem:code-forged")

            server.fixture.clock.advance(seconds: 121)
            let expired = try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                                json: #"{"code":"\#(overdraw)","points":1,"idempotencyKey":"k-5"}"#)
            #expect(expired.status == .unprocessableContent)
            #expect(expired.problemType == "urn:ayumi:problem:code-expired")
            #expect(try await server.call(.get, "/v1/me/balance", token: resident).json["points"] as? Int == 3)
        }
    }

    @Test("events: duplicates award nothing, the walk difference, per-event rejections")
    func events() async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            let batch = "[\(server.walk("w-1", "r-1", steps: 4_000)),\(server.walk("w-2", "r-1", steps: 9_500)),\(server.walk("w-1", "r-1", steps: 4_000)),\(server.walk("w-3", "r-2", steps: 4_000)),\(server.walk("w-4", "r-1", steps: 500_000))]"
            let answer = try await server.call(.post, "/v1/events", token: server.ingest, json: batch)
            let results = answer.json["results"] as! [[String: Any]]
            #expect(results.map { $0["status"] as! String } == ["accepted", "accepted", "duplicate", "rejected", "rejected"])
            #expect(results.map { ($0["awards"] as! [[String: Any]]).reduce(0) { $0 + ($1["points"] as! Int) } } == [2, 2, 0, 0, 0])
            #expect(results[3]["reason"] as? String == "Unknown resident")
        }
    }

    @Test("a transit tap from the resident's app or another feed is rejected; the same id from the operator's feed is accepted")
    func submitters() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-1")
            let tap = #"[{"id":"t-1","kind":"transit_tap","resident":"r-1","at":"2026-11-25T11:00:00+09:00","mode":"bus","route":"r10","stop":"s1"}]"#
            let own = try await server.call(.post, "/v1/events", token: resident, json: tap)
            let result = (own.json["results"] as! [[String: Any]])[0]
            #expect(result["status"] as? String == "rejected")
            #expect(result["reason"] as? String == "transit_tap events are not accepted from resident:r-1 (accepted from: ingest:metro-feed)")
            let otherFeed = try await server.call(.post, "/v1/events", token: server.ingest, json: tap)
            #expect((otherFeed.json["results"] as! [[String: Any]])[0]["status"] as? String == "rejected")
            let fed = try await server.call(.post, "/v1/events", token: server.transit, json: tap)
            #expect((fed.json["results"] as! [[String: Any]])[0]["status"] as? String == "accepted")
            #expect(try await server.fixture.points("r-1") == 1)
        }
    }

    @Test("a revoked token answers 401 on its next request, without a restart")
    func revokedToken() async throws {
        try await withServer { server in
            #expect(try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30", token: server.admin).status == .ok)
            let admin = try #require(try await server.fixture.ayumi.tokens.list(role: .admin).first)
            _ = try await server.fixture.ayumi.tokens.revoke(id: admin.id)
            let refused = try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30", token: server.admin)
            #expect(refused.status == .unauthorized)
            #expect(refused.problemType == "urn:ayumi:problem:unauthenticated")
            #expect(refused.headers[.wwwAuthenticate] == #"Bearer realm="ayumi", error="invalid_token""#)
        }
    }

    @Test("a malformed or oversized body is refused whole with a problem", arguments: [
        ("{\"not\":\"a list\"}", HTTPResponse.Status.badRequest, "invalid-request"),
        ("[{\"id\":\"x\",\"kind\":\"walk\",\"resident\":\"r-1\",\"date\":\"2026-11-25\"}]", .badRequest, "invalid-request"),
        ("[{\"id\":\"x\",\"kind\":\"jog\",\"resident\":\"r-1\"}]", .badRequest, "invalid-request"),
        ("[{\"id\":\"x\",\"kind\":\"visit\",\"resident\":\"r-1\",\"at\":\"yesterday\",\"zone\":\"centre\"}]", .badRequest, "invalid-request"),
        ("[]", .badRequest, "invalid-request"),
        ("[{\"id\":\"x\",\"kind\":\"walk\",\"resident\":\"r-1\",\"date\":\"2026-11-25\",\"steps\":-1}]", .badRequest, "invalid-request"),
        ("not json", .badRequest, "invalid-request"),
    ])
    func malformed(body: String, status: HTTPResponse.Status, type: String) async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            let valid = server.walk("ok-1", "r-1", steps: 5_000)
            let answer = try await server.call(.post, "/v1/events", token: server.ingest,
                                               json: body.hasPrefix("[{") ? "[\(valid)," + body.dropFirst() : body)
            #expect(answer.status == status)
            #expect(answer.problemType == "urn:ayumi:problem:" + type)
            #expect(try await server.fixture.points("r-1") == 0)
        }
    }

    @Test("events at the edges of time are rejected one by one, and the server stays up")
    func edgesOfTime() async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            let events = [
                #"{"id":"a","kind":"walk","resident":"r-1","date":"9999-12-31","steps":5000}"#,
                #"{"id":"b","kind":"walk","resident":"nobody","date":"9999-12-31","steps":5000}"#,
                #"{"id":"c","kind":"transit_tap","resident":"r-1","at":"0001-01-01T00:00:00Z","mode":"bus","route":"r","stop":"s"}"#,
                #"{"id":"d","kind":"visit","resident":"nobody","at":"9999-12-31T23:59:59+09:00","zone":"centre"}"#,
            ]
            let answer = try await server.call(.post, "/v1/events", token: server.ingest, json: "[\(events.joined(separator: ","))]")
            #expect(answer.status == .ok)
            #expect((answer.json["results"] as! [[String: Any]]).map { $0["status"] as! String } == ["rejected", "rejected", "rejected", "rejected"])
            #expect(try await server.call(.get, "/healthz", token: nil).status == .ok)
        }
    }

    @Test("a body over the route's limit is 413 body-too-large, never a 500", arguments: [
        ("/v1/events", (1 << 20) + 1), ("/v1/residents", 4_097), ("/v1/redemptions", 4_097),
    ])
    func bodyTooLarge(path: String, bytes: Int) async throws {
        try await withServer { server in
            let token = path == "/v1/residents" ? server.admin : path == "/v1/events" ? server.ingest : server.merchant
            let answer = try await server.call(.post, path, token: token, json: "[" + String(repeating: " ", count: bytes - 2) + "]")
            #expect(answer.status == .contentTooLarge)
            #expect(answer.problemType == "urn:ayumi:problem:body-too-large")
        }
    }

    @Test("enrolment refuses anything beyond the pseudonymous id, birth year and district")
    func enrolmentRefusesPersonalData() async throws {
        try await withServer { server in
            let answer = try await server.call(.post, "/v1/residents", token: server.admin,
                                               json: #"{"resident":"r-9","birthYear":1950,"district":"14101","name":"Taro"}"#)
            #expect(answer.status == .badRequest)
            #expect(answer.json["detail"] as? String == "name: not accepted; a resident is a pseudonymous id, a birth year and a district code")
            #expect(try await server.fixture.ayumi.dependencies.store.resident("r-9") == nil)
        }
    }

    @Test("more than 1,000 events in one request are refused whole")
    func tooManyEvents() async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            let events = (0...1_000).map { #"{"id":"v-\#($0)","kind":"visit","resident":"r-1","at":"2026-11-25T11:00:00+09:00","zone":"centre"}"# }
            let answer = try await server.call(.post, "/v1/events", token: server.ingest, json: "[\(events.joined(separator: ","))]")
            #expect(answer.status == .badRequest)
            #expect(answer.problemType == "urn:ayumi:problem:too-many-events")
            #expect(try await server.fixture.points("r-1") == 0)
        }
    }

    @Test("tokens: missing is 401, the wrong role is 403, another resident's events are 403")
    func authorization() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-1")
            _ = try await server.enrol("r-2")
            let missing = try await server.call(.get, "/v1/me/balance", token: nil)
            #expect(missing.status == .unauthorized)
            #expect(missing.problemType == "urn:ayumi:problem:unauthenticated")
            #expect(missing.headers[.wwwAuthenticate] == #"Bearer realm="ayumi""#)
            let unknown = try await server.call(.get, "/v1/me/balance", token: "ayumi_resident_nonsense")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.headers[.wwwAuthenticate] == #"Bearer realm="ayumi", error="invalid_token""#)
            // The scheme is case-insensitive (RFC 9110 section 11.1).
            let lowercase = try await server.client!.execute(uri: "/v1/me/balance", method: .get,
                                                             headers: [.authorization: "bearer \(resident)"]) { $0.status }
            #expect(lowercase == .ok)
            let wrongRole = try await server.call(.post, "/v1/residents", token: server.merchant,
                                                  json: #"{"resident":"r-9","birthYear":1950,"district":"14101"}"#)
            #expect(wrongRole.status == .forbidden)
            #expect(try await server.call(.post, "/v1/redemptions", token: resident, json: "{}").status == .forbidden)
            let other = try await server.call(.post, "/v1/events", token: resident, json: "[\(server.walk("w-1", "r-2", steps: 5_000))]")
            #expect(other.status == .forbidden)
            #expect(try await server.call(.get, "/v1/me/balance", token: server.admin).status == .forbidden)
        }
    }

    @Test("enrolment: the same id twice is 409, bad attributes are 400")
    func enrolment() async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            let again = try await server.call(.post, "/v1/residents", token: server.admin,
                                              json: #"{"resident":"r-1","birthYear":1950,"district":"14101"}"#)
            #expect(again.status == .conflict)
            #expect(again.problemType == "urn:ayumi:problem:resident-exists")
            for body in [#"{"resident":"r 2","birthYear":1950,"district":"14101"}"#,
                         #"{"resident":"r-2","birthYear":1850,"district":"14101"}"#,
                         #"{"resident":"r-2","birthYear":1950,"district":"Minato-ku"}"#,
                         #"{"resident":"r-2","birthYear":"1950","district":"14101"}"#] {
                let answer = try await server.call(.post, "/v1/residents", token: server.admin, json: body)
                #expect(answer.status == .badRequest, "\(body)")
                #expect(answer.problemType == "urn:ayumi:problem:invalid-request")
            }
        }
    }

    @Test("history pages newest first with a cursor")
    func historyPages() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-1")
            let taps = (0..<3).map { #"{"id":"t-\#($0)","kind":"transit_tap","resident":"r-1","at":"2026-11-25T0\#($0 + 7):00:00+09:00","mode":"bus","route":"r10","stop":"s\#($0)"}"# }
            try await server.call(.post, "/v1/events", token: server.transit, json: "[\(taps.joined(separator: ","))]")
            let first = try await server.call(.get, "/v1/me/history?limit=2", token: resident)
            let entries = first.json["entries"] as! [[String: Any]]
            #expect(entries.map { $0["reason"] as! String } == ["Ride on r10 at s2 on 2026-11-25", "Ride on r10 at s1 on 2026-11-25"])
            let cursor = first.json["nextCursor"] as! String
            let second = try await server.call(.get, "/v1/me/history?limit=2&cursor=\(cursor)", token: resident)
            #expect((second.json["entries"] as! [[String: Any]]).map { $0["reason"] as! String } == ["Ride on r10 at s0 on 2026-11-25"])
            #expect(second.json["nextCursor"] == nil)
            let bad = try await server.call(.get, "/v1/me/history?cursor=abc", token: resident)
            #expect(bad.status == .badRequest)
            #expect(try await server.call(.get, "/v1/me/history?limit=500", token: resident).status == .badRequest)
        }
    }

    @Test("a QR image is served only for the resident's own, genuine codes")
    func qrOwnCodesOnly() async throws {
        try await withServer { server in
            let resident = try await server.enrol("r-1")
            let other = try await server.enrol("r-2")
            let path = try await server.call(.post, "/v1/me/redemption-codes", token: resident).json["qrPng"] as! String
            #expect(try await server.call(.get, path, token: other).status == .notFound)
            #expect(try await server.call(.get, "/v1/me/redemption-codes/forged.code/qr.svg", token: resident).status == .notFound)
        }
    }

    @Test("the beneficiary report over HTTP matches the CLI's, for admins only")
    func report() async throws {
        try await withServer { server in
            _ = try await server.enrol("r-1")
            try await server.call(.post, "/v1/events", token: server.ingest, json: "[\(server.walk("w-1", "r-1", steps: 6_000))]")
            let csv = try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30", token: server.admin)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let expected = try await server.fixture.ayumi.reporting.beneficiaryReport(from: LocalDate("2026-11-01")!, to: LocalDate("2026-11-30")!)
            #expect(String(decoding: csv.body, as: UTF8.self) == expected.csv(language: .en))
            // One resident: the figures are suppressed, not only the count.
            #expect(String(decoding: csv.body, as: UTF8.self).contains("rule,walk-bands,Walking,X,X,X,0,0,0,0,0,0\r\n"))
            let json = try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30&format=json", token: server.admin)
            #expect(json.body == expected.json())
            // The admin path answers the same report; html is the printable page, in the request's language.
            let admin = try await server.call(.get, "/v1/admin/reports/beneficiaries?from=2026-11-01&to=2026-11-30&format=json", token: server.admin)
            #expect(admin.body == expected.json())
            let page = try await server.call(.get, "/v1/admin/reports/beneficiaries?from=2026-11-01&to=2026-11-30&format=html",
                                             token: server.admin, language: "ja")
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(decoding: page.body, as: UTF8.self) == expected.html(language: .ja))
            #expect(try await server.call(.get, "/v1/admin/reports/beneficiaries?from=2026-11-01&to=2026-11-30", token: server.ingest).status == .forbidden)
            #expect(try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01&to=2026-11-30", token: server.ingest).status == .forbidden)
            let backwards = try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-30&to=2026-11-01", token: server.admin)
            #expect(backwards.problemType == "urn:ayumi:problem:invalid-request")
            #expect(try await server.call(.get, "/v1/reports/beneficiaries?from=2026-11-01", token: server.admin).status == .badRequest)
        }
    }

    @Test("the indicators over HTTP: every format, for admins only, bad months and formats a problem")
    func kpis() async throws {
        try await withServer { server in
            let json = try await server.call(.get, "/v1/reports/kpis?from=2026-10&to=2026-11", token: server.admin)
            #expect(json.status == .ok && json.headers[.contentType] == "application/json; charset=utf-8")
            #expect(json.body == (try await server.fixture.ayumi.reporting.kpis(from: "2026-10", to: "2026-11")).json())
            let csv = try await server.call(.get, "/v1/reports/kpis?from=2026-10&to=2026-11&format=csv", token: server.admin, language: "en")
            #expect(String(decoding: csv.body, as: UTF8.self).hasPrefix("\u{FEFF}indicator,name,kind,target,target_year,2026-10,2026-11\r\n"))
            let book = try await server.call(.get, "/v1/reports/kpis?from=2026-10&to=2026-11&format=xlsx", token: server.admin)
            #expect(book.headers[.contentType] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" && book.body.starts(with: Data("PK".utf8)))
            for bad in ["from=2026-13&to=2026-12", "from=2026-11&to=2026-10", "from=2020-01&to=2026-11", "from=2026-10&to=2026-11&format=pdf"] {
                let answer = try await server.call(.get, "/v1/reports/kpis?" + bad, token: server.admin)
                #expect(answer.status == .badRequest && answer.problemType == "urn:ayumi:problem:invalid-request", "\(bad)")
            }
            #expect(try await server.call(.get, "/v1/reports/kpis?from=2026-10&to=2026-11", token: server.ingest).status == .forbidden)
        }
    }

    @Test("each request is logged with its route template; no token, code, birth year or district reaches the log")
    func requestLog() async throws {
        let recorder = LogRecorder()
        try await withServer(logger: Logger(label: "test", factory: { _ in recorder })) { server in
            let resident = try await server.enrol("r-secret-7")
            let issued = try await server.call(.post, "/v1/me/redemption-codes", token: resident)
            let code = issued.json["code"] as! String
            try await server.call(.get, issued.json["qrPng"] as! String, token: resident)
            try await server.call(.post, "/v1/redemptions", token: server.merchant,
                                  json: #"{"code":"\#(code)","points":99,"idempotencyKey":"k-1"}"#)
            let lines = recorder.lines
            #expect(lines.contains { $0.contains("http.route=/v1/me/redemption-codes/{code}/qr.png") && $0.contains("http.status=200") })
            #expect(lines.contains { $0.contains("http.route=/v1/redemptions") && $0.contains("http.status=422") })
            #expect(lines.contains { $0.hasPrefix("Resident enrolled") }, "the use cases' log is captured too")
            #expect(lines.contains { $0.hasPrefix("Token created") })
            for secret in [code, resident, server.merchant, server.admin, server.ingest] {
                #expect(!lines.contains { $0.contains(secret) }, "\(secret) was logged")
            }
            // The birth year and district as values of their own: random request ids and tokens may
            // hold the same digits inside longer runs of letters and digits.
            for value in ["1950", "14101"] {
                let alone = "(?<![0-9A-Za-z_-])\(value)(?![0-9A-Za-z_-])"
                #expect(!lines.contains { $0.range(of: alone, options: .regularExpression) != nil }, "\(value) was logged")
            }
        }
    }

    @Test("health, unknown routes and problem titles in Japanese")
    func health() async throws {
        try await withServer { server in
            let health = try await server.call(.get, "/healthz", token: nil)
            #expect(health.json["status"] as? String == "ok")
            let missing = try await server.call(.get, "/v1/nothing", token: nil, language: "ja")
            #expect(missing.status == .notFound)
            #expect(missing.problemType == "urn:ayumi:problem:not-found")
            #expect(missing.json["title"] as? String == "見つかりません")
            let wrongMethod = try await server.call(.delete, "/v1/me/redemption-codes/abc/qr.png", token: nil)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(wrongMethod.problemType == "urn:ayumi:problem:method-not-allowed")
        }
    }

    @Test("every route of the router is described in openapi.yaml")
    func openAPICoversRoutes() async throws {
        let fixture = try await Fixture.make()
        let router = buildRouter(ayumi: fixture.ayumi)
        let spec = try String(contentsOfFile: Fixture.repositoryRoot + "/openapi.yaml", encoding: .utf8)
        var documented: Set<String> = []
        var path: String?
        for line in spec.split(separator: "\n") {
            if line.hasPrefix("  /") { path = String(line.dropFirst(2).dropLast()) }
            else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), let method = line.split(separator: ":").first,
                    ["get", "post", "put", "delete", "patch"].contains(method.trimmingCharacters(in: .whitespaces)) {
                documented.insert("\(method.trimmingCharacters(in: .whitespaces).uppercased()) \(path)")
            } else if !line.hasPrefix(" ") { path = nil }
        }
        let served = Set(router.routes.map { route in
            "\(route.method) \(route.path.description)"
        })
        #expect(served == documented)
        #expect(served.count == 27)
    }
}

/// Keeps every log line (message and metadata) so a test can read what an operator would see.
final class LogRecorder: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    var lines: [String] { lock.withLock { recorded } }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let line = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lock.withLock { recorded.append(line) }
    }
}

@Suite("Rules over HTTP")
struct RulesHTTPTests {
    /// The tests' Rules/ as an upload, with `edit` applied to walk.yaml.
    func upload(_ edit: (String) -> String = { $0 }) throws -> String {
        var files: [String: String] = [:]
        let directory = Fixture.rulesDirectory
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name != "calendar" {
            files[name] = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory + "/calendar") {
            files["calendar/" + name] = try String(contentsOfFile: directory + "/calendar/" + name, encoding: .utf8)
        }
        files["walk.yaml"] = edit(files["walk.yaml"]!)
        return String(decoding: try JSONSerialization.data(withJSONObject: ["files": files]), as: UTF8.self)
    }

    @Test("validate checks an upload as rules check does; activate puts it in force from a time, recorded with the token; history lists both")
    func validateAndActivate() async throws {
        try await withServer { server in
            let first = server.fixture.ayumi.dependencies.program.current.ruleset.version
            let broken = try await server.call(.post, "/v1/admin/rules/validate", token: server.admin,
                                               json: try upload { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: dai, points: 5}") })
            #expect(broken.status == .unprocessableContent)
            #expect(broken.problemType == "urn:ayumi:problem:rules-invalid")
            #expect((broken.json["detail"] as? String)?.hasPrefix("walk.yaml:12:") == true && (broken.json["detail"] as? String)?
                .contains("error: per must be one of: day, week, month, program") == true)

            let checked = try await server.call(.post, "/v1/admin/rules/validate", token: server.admin,
                                                json: try upload { $0.replacingOccurrences(of: "{per: day, points: 5}", with: "{per: day, points: 3}") })
            #expect(checked.status == .ok)
            let version = try #require(checked.json["version"] as? String)
            #expect(checked.json["rules"] as? Int == 3)
            #expect(version != first)
            // Validated is not in force.
            #expect(try await server.call(.get, "/v1/admin/rules", token: server.admin).json["inForce"] as? String == first)

            let unknown = try await server.call(.post, "/v1/admin/rules/activate", token: server.admin,
                                                json: #"{"version":"ffffffffffff","effectiveFrom":"2026-11-25T12:00:00+09:00"}"#)
            #expect(unknown.status == .notFound)
            #expect(unknown.problemType == "urn:ayumi:problem:unknown-ruleset")
            let badTime = try await server.call(.post, "/v1/admin/rules/activate", token: server.admin,
                                                json: #"{"version":"\#(version)","effectiveFrom":"tomorrow"}"#)
            #expect(badTime.problemType == "urn:ayumi:problem:invalid-request")

            // In force from an hour ago: a walk of today now earns at most 3.
            let from = server.fixture.clock.now.addingTimeInterval(-3_600).formatted(.iso8601)
            let activated = try await server.call(.post, "/v1/admin/rules/activate", token: server.admin,
                                                  json: #"{"version":"\#(version)","effectiveFrom":"\#(from)"}"#)
            #expect(activated.status == .ok)
            #expect(activated.json["inForce"] as? String == version)
            let entries = try #require(activated.json["activations"] as? [[String: Any]])
            #expect(entries.map { $0["version"] as? String } == [first, version])
            #expect((entries.last?["activatedBy"] as? String)?.hasPrefix("admin token ") == true)
            let result = try await server.fixture.submit([server.fixture.walk("w-1", "r-1", steps: 12_000)])
            _ = result
            try await server.fixture.enrol("r-2")
            let walk = try await server.fixture.submit([server.fixture.walk("w-2", "r-2", steps: 12_000)])
            #expect(walk.first?.awards.map(\.points) == [3])

            #expect(try await server.call(.get, "/v1/admin/rules", token: server.ingest).status == .forbidden)
        }
    }
}

@Suite("Resident labels over HTTP")
struct LabelsHTTPTests {
    @Test("the city tags a resident and records a consent: stored sorted, without repeats; unknown residents and bad labels refused")
    func labels() async throws {
        try await withServer { server in
            try await server.fixture.enrol("r-1")
            let answer = try await server.call(.put, "/v1/residents/r-1/labels", token: server.admin,
                                               json: #"{"tags":["pilot-group-b","pilot-group-b"],"consents":["research"]}"#)
            #expect(answer.status == .ok)
            #expect(answer.json["tags"] as? [String] == ["pilot-group-b"])
            #expect(answer.json["consents"] as? [String] == ["research"])
            let stored = try await server.fixture.ayumi.dependencies.store.resident("r-1")
            #expect(stored?.tags == ["pilot-group-b"] && stored?.consents == ["research"])
            #expect(try await server.call(.put, "/v1/residents/r-404/labels", token: server.admin, json: #"{"tags":[],"consents":[]}"#)
                .problemType == "urn:ayumi:problem:unknown-resident")
            #expect(try await server.call(.put, "/v1/residents/r-1/labels", token: server.admin, json: #"{"tags":["a b"],"consents":[]}"#)
                .problemType == "urn:ayumi:problem:invalid-request")
            #expect(try await server.call(.put, "/v1/residents/r-1/labels", token: server.ingest, json: #"{"tags":[],"consents":[]}"#)
                .status == .forbidden)
        }
    }
}

@Suite("Pending points over HTTP")
struct PendingHTTPTests {
    @Test("the balance shows pendingPoints only when some are, and history the day an award can be spent")
    func pending() async throws {
        let directory = try Fixture.rules(editing: ["walk.yaml": { $0 + "pendingDays: 7\n" }])
        try await withServer(rulesDirectory: directory) { server in
            let resident = try await server.fixture.enrol("r-1")
            let before = try await server.call(.get, "/v1/me/balance", token: resident)
            #expect(String(decoding: before.body, as: UTF8.self) == #"{"expiredPoints":0,"points":0}"# + "\n")
            _ = try await server.fixture.submit([server.fixture.walk("w-1", "r-1", steps: 8_000)])
            let after = try await server.call(.get, "/v1/me/balance", token: resident)
            #expect(String(decoding: after.body, as: UTF8.self) == #"{"expiredPoints":0,"pendingPoints":4,"points":0}"# + "\n")
            let history = try await server.call(.get, "/v1/me/history", token: resident)
            let entries = try #require(history.json["entries"] as? [[String: Any]])
            #expect(entries.first?["availableOn"] as? String == server.fixture.today.adding(days: 7).description)
        }
    }
}
