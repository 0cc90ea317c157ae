import AyumiReports
import AyumiServices
import Foundation
import Hummingbird

/// Monthly settlements for the city's accountant (admin token): read a month's statements (frozen
/// once settled, a draft before), and settle a month that has ended.
struct SettlementsController {
    let reporting: Reporting
    let auth: Authenticator

    func addRoutes(to group: RouterGroup<BasicRequestContext>, merchants: RouterGroup<BasicRequestContext>) {
        group.get(":month", use: read)      // GET /v1/admin/settlements/{month}
        group.post(":month", use: settle)   // POST /v1/admin/settlements/{month}
        merchants.get(":month", use: own)   // GET /v1/merchant/settlements/{month}
    }

    /// A shop's own statement of a month (merchant token; a suspended shop reads its statements too).
    @Sendable func own(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let merchantID = try await auth.principal(request, roles: [.merchant]).subject!
        let settlement = try await reporting.settlement(month: context.parameters.get("month") ?? "")
        return try Self.answer(settlement.only(merchantID: merchantID), request: request, status: .ok)
    }

    @Sendable func read(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try Self.answer(try await reporting.settlement(month: context.parameters.get("month") ?? ""), request: request, status: .ok)
    }

    @Sendable func settle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try Self.answer(try await reporting.settle(month: context.parameters.get("month") ?? ""), request: request, status: .ok)
    }

    static func answer(_ settlement: Settlement, request: Request, status: HTTPResponse.Status) throws -> Response {
        var headers = HTTPFields()
        let language = HTTP.language(request)
        let body: ByteBuffer
        switch request.uri.queryParameters["format"].map(String.init) ?? "json" {
        case "json":
            headers[.contentType] = "application/json; charset=utf-8"
            body = ByteBuffer(bytes: settlement.json())
        case "csv":
            headers[.contentType] = "text/csv; charset=utf-8"
            body = ByteBuffer(string: settlement.csv(language))
        case "html":
            headers[.contentType] = "text/html; charset=utf-8"
            body = ByteBuffer(string: settlement.html(language))
        default:
            throw AyumiError.invalidRequest("format: json, csv or html")
        }
        headers[.contentLanguage] = language.rawValue
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
