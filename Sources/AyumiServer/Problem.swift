import AyumiCore
import AyumiServices
import Foundation
import Hummingbird
import Logging

/// An RFC 9457 problem detail. `type` is a stable URN per situation, so clients branch on it, not
/// on the wording of `title` (which follows `Accept-Language`: Japanese or English).
struct Problem: Error {
    var slug: String
    var status: HTTPResponse.Status
    var title: LocalizedText
    var detail: String
    var headers = HTTPFields()

    static let typePrefix = "urn:ayumi:problem:"

    init(slug: String, status: HTTPResponse.Status, title: LocalizedText, detail: String) {
        self.slug = slug
        self.status = status
        self.title = title
        self.detail = detail
    }

    /// The one place where every error a request can meet becomes a problem.
    init?(_ error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as AyumiError:
            self.init(error)
        // A body over the route's limit: NIO's collect(upTo:) throws this, not an HTTPError.
        case let error as HTTPResponseError where error.status == .contentTooLarge:
            self.init(slug: "body-too-large", status: .contentTooLarge, title: .init(ja: "リクエストが大きすぎます", en: "Request body too large"),
                      detail: "The request body is larger than this endpoint accepts.")
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                self.init(slug: "not-found", status: .notFound, title: .init(ja: "見つかりません", en: "Not found"),
                          detail: "No such resource or route.")
            case .contentTooLarge:
                self.init(slug: "body-too-large", status: .contentTooLarge, title: .init(ja: "リクエストが大きすぎます", en: "Request body too large"),
                          detail: "The request body is larger than this endpoint accepts.")
            case .methodNotAllowed:
                self.init(slug: "method-not-allowed", status: .methodNotAllowed, title: .init(ja: "許可されていないメソッドです", en: "Method not allowed"),
                          detail: "This route does not answer that method.")
            default:
                self.init(slug: "invalid-request", status: .badRequest, title: .init(ja: "不正なリクエストです", en: "Invalid request"),
                          detail: error.body ?? "The request could not be understood.")
            }
        default:
            return nil
        }
    }

    init(_ error: AyumiError) {
        let (slug, status, title): (String, HTTPResponse.Status, LocalizedText) = switch error {
        case .unauthenticated, .invalidToken: ("unauthenticated", .unauthorized, .init(ja: "認証が必要です", en: "Authentication required"))
        case .forbidden: ("forbidden", .forbidden, .init(ja: "この操作は許可されていません", en: "Not allowed"))
        case .invalidRequest: ("invalid-request", .badRequest, .init(ja: "不正なリクエストです", en: "Invalid request"))
        case .tooManyEvents: ("too-many-events", .badRequest, .init(ja: "イベントが多すぎます", en: "Too many events"))
        case .residentExists: ("resident-exists", .conflict, .init(ja: "登録済みの利用者です", en: "Resident already enrolled"))
        case .unknownResident: ("unknown-resident", .notFound, .init(ja: "未登録の利用者です", en: "Unknown resident"))
        case .unknownMerchant, .merchantInactive: ("unknown-merchant", .notFound, .init(ja: "未登録の加盟店です", en: "Unknown merchant"))
        case .notFound: ("not-found", .notFound, .init(ja: "見つかりません", en: "Not found"))
        // 422, not 401: the till's own credentials are fine; it is the code that cannot be used.
        case .codeForged: ("code-forged", .unprocessableContent, .init(ja: "無効なコードです", en: "Code unreadable or not issued by this service"))
        case .codeExpired: ("code-expired", .unprocessableContent, .init(ja: "コードの有効期限が切れています", en: "Code expired"))
        case .codeNumberMistyped:
            ("code-number-mistyped", .unprocessableContent, .init(ja: "番号の入力に誤りがあります", en: "Number mistyped"))
        case .codeNumberUnknown: ("code-number-unknown", .unprocessableContent, .init(ja: "その番号のコードはありません", en: "Unknown code number"))
        case .cardUnknown: ("card-unknown", .unprocessableContent, .init(ja: "使えないカードです", en: "Card not in use"))
        case .cardLocked: ("card-locked", .forbidden, .init(ja: "カードはロックされています", en: "Card locked"))
        case .pinRequired: ("pin-required", .unprocessableContent, .init(ja: "暗証番号を入力してください", en: "PIN required"))
        case .pinWrong: ("pin-wrong", .unprocessableContent, .init(ja: "暗証番号が違います", en: "Wrong PIN"))
        case .tooManyAttempts: ("too-many-attempts", .tooManyRequests, .init(ja: "試行回数が多すぎます", en: "Too many attempts"))
        case .codeAlreadyUsed: ("code-already-used", .conflict, .init(ja: "使用済みのコードです", en: "Code already used"))
        case .insufficientPoints: ("insufficient-points", .unprocessableContent, .init(ja: "ポイントが不足しています", en: "Not enough points"))
        case .idempotencyKeyReused:
            ("idempotency-key-reused", .unprocessableContent, .init(ja: "冪等キーが別の取引で使われています", en: "Idempotency key reused"))
        case .merchantSuspended: ("merchant-suspended", .forbidden, .init(ja: "この加盟店は利用停止中です", en: "Merchant suspended"))
        case .merchantDailyLimit:
            ("merchant-daily-limit", .unprocessableContent, .init(ja: "本日の店舗の利用上限を超えます", en: "The shop's daily limit would be passed"))
        case .residentDailyLimitAtMerchant:
            ("resident-daily-limit", .unprocessableContent, .init(ja: "本日のこの店舗での利用上限を超えます", en: "The resident's daily limit at this shop would be passed"))
        case .unknownRedemption: ("unknown-redemption", .notFound, .init(ja: "その取引はありません", en: "Unknown redemption"))
        case .refundTooLate: ("refund-too-late", .unprocessableContent, .init(ja: "返金の期限を過ぎています", en: "Too late to refund"))
        case .refundExceedsRedemption:
            ("refund-exceeds-redemption", .unprocessableContent, .init(ja: "利用額を超える返金はできません", en: "Refund exceeds what is left of the redemption"))
        case .rulesInvalid: ("rules-invalid", .unprocessableContent, .init(ja: "ルールに誤りがあります", en: "The rules have errors"))
        case .unknownRuleset: ("unknown-ruleset", .notFound, .init(ja: "そのルールセットはありません", en: "Unknown ruleset version"))
        case .busy: ("busy", .serviceUnavailable, .init(ja: "混み合っています。もう一度お試しください", en: "Busy, please retry"))
        case .databaseMissing, .databaseNeedsMigration, .notAnAyumiDatabase:
            // Only maintenance commands open a database that may be missing; the server created its own.
            (Problem.internalError.slug, Problem.internalError.status, Problem.internalError.title)
        }
        self.init(slug: slug, status: status, title: title,
                  detail: status == .internalServerError ? Problem.internalError.detail : error.detail)
        // RFC 9110 section 11.6.1: every 401 names the scheme; RFC 6750 section 3.1 adds the error
        // when a token was presented but is not valid.
        switch error {
        case .unauthenticated: headers[.wwwAuthenticate] = #"Bearer realm="ayumi""#
        case .invalidToken: headers[.wwwAuthenticate] = #"Bearer realm="ayumi", error="invalid_token""#
        case .tooManyAttempts(let seconds): headers[.retryAfter] = "\(seconds)"
        default: break
        }
    }

    static let internalError = Problem(slug: "internal", status: .internalServerError,
                                       title: .init(ja: "サーバー内部エラー", en: "Internal server error"),
                                       detail: "The error was logged; please try again later.")

    func response(language: Language) -> Response {
        struct Body: Encodable { var type: String, title: String, status: Int, detail: String }
        let body = Body(type: Self.typePrefix + slug, title: title.text(language), status: status.code, detail: detail)
        let data = try! JSONEncoder().encode(body) + Data("\n".utf8)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        headers[.contentLanguage] = language.rawValue
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error thrown below it into problem+json. An unexpected error is logged with its
/// details and answered as a bare 500, so internals never leak to clients.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let language = Language(acceptLanguage: request.headers[.acceptLanguage])
            if let error = error as? HTTPError, error.status == .notFound {
                let allowed = routes.methods(at: request.uri.path)
                if !allowed.isEmpty {
                    var problem = Problem(slug: "method-not-allowed", status: .methodNotAllowed,
                                          title: .init(ja: "許可されていないメソッドです", en: "Method not allowed"),
                                          detail: "This route answers \(allowed.joined(separator: ", ")).")
                    problem.headers[.allow] = allowed.joined(separator: ", ")
                    return problem.response(language: language)
                }
            }
            if let problem = Problem(error) { return problem.response(language: language) }
            // The path is not logged: it can hold a redemption code.
            context.logger.error("Request failed", metadata: ["error": "\(String(reflecting: error))", "http.method": "\(request.method)"])
            return Problem.internalError.response(language: language)
        }
    }
}
