import AyumiCore
import AyumiServices
import Foundation
import Hummingbird

/// Small helpers every controller uses to translate between HTTP and the use cases.
enum HTTP {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        // A trailing newline keeps a terminal prompt off the answer when people try the API with curl.
        let data = try encoder.encode(value) + Data("\n".utf8)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Decodes a JSON body of at most `bytesMax` bytes; anything else is a 400 `invalid-request`
    /// saying where the body went wrong, and a larger body a 413 `body-too-large`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, bytesMax: Int) async throws -> T {
        let buffer = try await request.body.collect(upTo: bytesMax)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw AyumiError.invalidRequest("The body is not valid JSON of the expected shape: \(describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "body" : String(path.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)) has the wrong type"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not JSON" : "\(path(context)) is not valid"
        @unknown default: return "unreadable"
        }
    }

    static func language(_ request: Request) -> Language { Language(acceptLanguage: request.headers[.acceptLanguage]) }

    static func iso8601(_ date: Date) -> String { date.formatted(.iso8601) }
}

/// Bearer-token authentication: each route names the roles it admits.
struct Authenticator: Sendable {
    let tokens: Tokens

    func principal(_ request: Request, roles: Set<Role>) async throws -> Principal {
        // The scheme is case-insensitive (RFC 9110 section 11.1).
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw AyumiError.unauthenticated
        }
        guard let principal = try await tokens.authenticate(token: String(header.dropFirst(7))) else {
            throw AyumiError.invalidToken
        }
        guard roles.contains(principal.role) else {
            throw AyumiError.forbidden("This endpoint is for \(roles.map(\.rawValue).sorted().joined(separator: " or ")) tokens.")
        }
        return principal
    }

    func resident(_ request: Request) async throws -> String {
        try await principal(request, roles: [.resident]).subject!
    }
}
