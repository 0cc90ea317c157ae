import AyumiCore
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
        return try Self.answer(settlement.only(merchantID: merchantID), request: request)
    }

    @Sendable func read(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try Self.answer(try await reporting.settlement(month: context.parameters.get("month") ?? ""), request: request)
    }

    @Sendable func settle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try Self.answer(try await reporting.settle(month: context.parameters.get("month") ?? ""), request: request)
    }

    static func answer(_ settlement: Settlement, request: Request) throws -> Response {
        try ReportAnswer.response(request, settlement)
    }
}

/// A report in the format the request's `format` names (JSON by default), worded in its
/// `Accept-Language`; a format the report does not have is `invalid-request`.
enum ReportAnswer {
    static func response(_ request: Request, _ report: some RenderedReport, defaultFormat: ReportFormat = .json) throws -> Response {
        let formats = type(of: report).formats
        let asked = request.uri.queryParameters["format"].map(String.init) ?? defaultFormat.rawValue
        guard let format = ReportFormat(rawValue: asked), formats.contains(format) else {
            throw AyumiError.invalidRequest("format: " + ReportFormat.allCases.filter(formats.contains).map(\.rawValue).joined(separator: ", "))
        }
        let language = HTTP.language(request)
        var headers = HTTPFields()
        headers[.contentLanguage] = language.rawValue
        headers[.contentType] = format.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try report.rendered(format, language: language))))
    }
}
