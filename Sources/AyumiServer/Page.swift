import AyumiCore
import Crypto
import Foundation
import Hummingbird

/// What the pages the server serves (`/merchant`, `/admin`) share: the language they are read in,
/// and the headers that let only their own inline script and style run.
enum Page {
    /// `?lang=ja|en`, else `Accept-Language`.
    static func language(_ request: Request) -> Language {
        switch request.uri.queryParameters["lang"].map(String.init) {
        case "ja": .ja
        case "en": .en
        default: HTTP.language(request)
        }
    }

    static func response(_ html: String, language: Language, policy: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLanguage] = language.rawValue
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = policy
        headers[.init("Referrer-Policy")!] = "no-referrer"
        headers[.init("X-Frame-Options")!] = "DENY"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// Only the page's own script and styles run, and it talks only to this server.
    static func policy(script: String, styles: [String]) -> String {
        "default-src 'none'; script-src '\(hash(script))'; style-src \(styles.map { "'\(hash($0))'" }.joined(separator: " ")); connect-src 'self'; "
            + "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    }

    /// A page: its title, its one style and one script inline, the language links, a token's
    /// sign-in (ids `token`, `signin-button`) and then `body`.
    static func document(_ language: Language, title: LocalizedText, style: String, script: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title.text(language))</title>
        <link rel="icon" href="data:,">
        <style>\(style)</style>
        </head>
        <body data-lang="\(language.rawValue)">
        <header><h1 id="title"></h1><nav><a href="?lang=ja">日本語</a> · <a href="?lang=en">English</a></nav></header>
        <section id="signin">
          <label for="token" id="token-label"></label>
          <input id="token" type="password" autocomplete="off">
          <button id="signin-button" type="button"></button>
        </section>
        \(body)
        <script>\(script)</script>
        </body>
        </html>

        """
    }

    static func hash(_ text: String) -> String {
        "sha256-" + Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
    }
}
