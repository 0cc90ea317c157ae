import AyumiServices
import Foundation
import Hummingbird
import Logging

/// Builds the router with its dependencies passed in, so tests can build it over a temporary store
/// and a fixed clock.
public func buildRouter(ayumi: Ayumi) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    let auth = Authenticator(ayumi: ayumi)
    router.get("healthz") { _, _ in
        try await ayumi.checkHealth()
        return try HTTP.json(["status": "ok"])
    }
    ResidentController(ayumi: ayumi, auth: auth).addRoutes(to: router.group("v1/residents"))
    EventController(ayumi: ayumi, auth: auth).addRoutes(to: router.group("v1/events"))
    MeController(ayumi: ayumi, auth: auth).addRoutes(to: router.group("v1/me"))
    RedemptionController(ayumi: ayumi, auth: auth).addRoutes(to: router.group("v1/redemptions"))
    ReportController(ayumi: ayumi, auth: auth).addRoutes(to: router.group("v1/reports"))
    routes.register(router.routes)
    return router
}

public func buildApplication(ayumi: Ayumi, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
    Application(router: buildRouter(ayumi: ayumi), configuration: .init(address: .hostname(host, port: port), serverName: "Ayumi"),
                logger: logger)
}
