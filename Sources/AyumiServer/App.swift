import AyumiServices
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the router with its dependencies passed in, so tests can build it over a temporary store
/// and a fixed clock.
public func buildRouter(ayumi: Ayumi) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: NoSniffMiddleware())
    router.add(middleware: RequestLogMiddleware())
    let routes = RouteTable()
    router.add(middleware: ProblemMiddleware(routes: routes))
    // Each controller gets the one feature it serves, and the authenticator.
    let auth = Authenticator(tokens: ayumi.tokens)
    let health = ayumi.health
    router.get("healthz") { _, _ in
        try await health.check()
        return try HTTP.json(["status": "ok"])
    }
    ResidentController(residents: ayumi.residents, auth: auth).addRoutes(to: router.group("v1/residents"))
    EventController(ingestion: ayumi.ingestion, auth: auth).addRoutes(to: router.group("v1/events"))
    MeController(accounts: ayumi.accounts, redemptions: ayumi.redemptions, auth: auth).addRoutes(to: router.group("v1/me"))
    RedemptionController(redemptions: ayumi.redemptions, auth: auth).addRoutes(to: router.group("v1/redemptions"))
    ReportController(reporting: ayumi.reporting, auth: auth).addRoutes(to: router.group("v1/reports"), admin: router.group("v1/admin/reports"))
    SettlementsController(reporting: ayumi.reporting, auth: auth).addRoutes(to: router.group("v1/admin/settlements"),
                                                                             merchants: router.group("v1/merchant/settlements"))
    RulesController(program: ayumi.program, auth: auth).addRoutes(to: router.group("v1/admin/rules"))
    MerchantsController(merchants: ayumi.merchants, auth: auth).addRoutes(to: router.group("v1/admin/merchants"))
    MerchantPage(redemptions: ayumi.redemptions, auth: auth).addRoutes(to: router)
    AdminPage().addRoutes(to: router)
    routes.register(router.routes)
    return router
}

/// - Parameter jobs: the background work that runs beside the server and stops with it; nil for
///   none (tests that drive the clock themselves).
public func buildApplication(ayumi: Ayumi, host: String, port: Int, jobs: BackgroundJobs? = nil, logger: Logger) -> some ApplicationProtocol {
    Application(router: buildRouter(ayumi: ayumi), configuration: .init(address: .hostname(host, port: port), serverName: "Ayumi"),
                services: jobs?.services(ayumi: ayumi, logger: logger) ?? [], logger: logger)
}
