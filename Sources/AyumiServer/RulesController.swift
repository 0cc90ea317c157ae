import AyumiCore
import AyumiServices
import AyumiStore
import Foundation
import Hummingbird

/// The program over HTTP, for the city's staff (admin token): which ruleset is in force and since
/// when, checking an uploaded program, and putting a checked one in force from a given time.
struct RulesController {
    let program: ProgramAdministration
    let auth: Authenticator

    /// 4 MiB: a program with a few hundred rule files and its zones.
    static let bodyBytesMax = 4 << 20

    func addRoutes(to group: RouterGroup<BasicRequestContext>) {
        group.get(use: history)                      // GET /v1/admin/rules
        group.post("validate", use: validate)        // POST /v1/admin/rules/validate
        group.post("activate", use: activate)        // POST /v1/admin/rules/activate
    }

    struct HistoryAnswer: Encodable {
        struct Entry: Encodable { var version: String; var effectiveFrom: String; var activatedAt: String; var activatedBy: String }
        var inForce: String
        var activations: [Entry]
    }

    func historyAnswer() async throws -> HistoryAnswer {
        let (inForce, activations) = try await program.history()
        return HistoryAnswer(inForce: inForce, activations: activations.map {
            .init(version: $0.ruleset.version, effectiveFrom: HTTP.iso8601($0.effectiveFrom), activatedAt: HTTP.iso8601($0.activatedAt),
                  activatedBy: $0.activatedBy)
        })
    }

    @Sendable func history(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        return try HTTP.json(try await historyAnswer())
    }

    @Sendable func validate(_ request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await auth.principal(request, roles: [.admin])
        struct Body: Decodable { var files: [String: String] }
        let body = try await HTTP.decode(Body.self, from: request, bytesMax: Self.bodyBytesMax)
        let (version, rules, warnings) = try await program.validate(files: body.files)
        struct Answer: Encodable { var version: String; var rules: Int; var warnings: [String] }
        return try HTTP.json(Answer(version: version, rules: rules, warnings: warnings))
    }

    @Sendable func activate(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let principal = try await auth.principal(request, roles: [.admin])
        struct Body: Decodable { var version: String; var effectiveFrom: String }
        let body = try await HTTP.decode(Body.self, from: request, bytesMax: 4_096)
        guard let effectiveFrom = try? Date(body.effectiveFrom, strategy: .iso8601) else {
            throw AyumiError.invalidRequest("effectiveFrom: an RFC 3339 time with offset, such as 2026-12-01T00:00:00+09:00")
        }
        try await program.activate(version: body.version, effectiveFrom: effectiveFrom, by: principal)
        return try HTTP.json(try await historyAnswer())
    }
}
