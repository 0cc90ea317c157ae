import Hummingbird
import Logging

/// One log line per request for the operator on call: method, route, status and duration. The
/// route is the template (`/v1/me/redemption-codes/{code}/qr.png`), never the path, so codes and
/// other values in the path stay out of the logs; bodies and headers (tokens) are never logged.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        context.logger.info("Request answered", metadata: [
            "http.method": "\(request.method)",
            "http.route": "\(context.endpointPath ?? "unmatched")",
            "http.status": "\(response.status.code)",
            "http.duration_us": "\(microseconds)",
        ])
        return response
    }
}

/// `X-Content-Type-Options: nosniff` on every answer, problems included (the outermost middleware,
/// outside the one that turns errors into problem+json): a browser never runs a JSON body, a QR
/// image or a CSV as a script or a page because it looked like one.
struct NoSniffMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}

