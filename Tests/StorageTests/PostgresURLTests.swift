import Storage
import Testing
import Trading

@Suite struct PostgresURLTests {
    @Test func parsesEveryPart() throws {
        let url = try PostgresURL("postgres://bourse:s%40cret:x@db.example:6543/bourse_prod?sslmode=require&x=y")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.username == "bourse")
        #expect(url.password == "s@cret:x")
        #expect(url.database == "bourse_prod")
        #expect(url.sslMode == .require)
        #expect(url.description == "postgres://bourse:***@db.example:6543/bourse_prod?sslmode=require")
        #expect(!url.description.contains("cret"))
    }

    @Test func fillsDefaults() throws {
        let url = try PostgresURL("postgresql://app@[::1]")
        #expect(url.host == "::1")
        #expect(url.port == 5432)
        #expect(url.password == nil)
        #expect(url.database == "app")
        #expect(url.sslMode == .prefer)
        #expect(try PostgresURL("postgres://a:b@h:1/d?sslmode=disable").with(database: "e").database == "e")
    }

    @Test(arguments: [
        "mysql://a:b@h/d", "postgres://h:5432/d", "postgres://a:b@:5432/d", "postgres://a:b@h:0/d",
        "postgres://a:b@h:port/d", "postgres://a:b@h/d?sslmode=sometimes", "postgres://a:b@[::1/d",
    ])
    func refusesMalformedURLs(_ text: String) {
        #expect(throws: BourseError.self) { try PostgresURL(text) }
    }

    @Test func errorsNeverRepeatThePassword() {
        do {
            _ = try PostgresURL("postgres://a:topsecret@h:99999/d")
            Issue.record("accepted a bad port")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
        }
    }
}
