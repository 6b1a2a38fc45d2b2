// The admission stage alone (gateway/admission.h): which requests Gatehouse takes before it looks at
// their route, and the session id it keeps from a client's header.
#include "gateway/admission.h"
#include <QTest>

using namespace gh;

namespace {
HttpHeaders headers(std::initializer_list<std::pair<const char *, const char *>> list)
{
    HttpHeaders h;
    for (const auto &[name, value] : list)
        h.add(QByteArray(name), QByteArray(value));
    return h;
}
const QStringList kOrigins{QStringLiteral("http://localhost:3000")};
} // namespace

class TestAdmission : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void loopbackHosts_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<bool>("loopback");
        QTest::newRow("localhost") << QByteArray("localhost") << true;
        QTest::newRow("localhost with port") << QByteArray("localhost:8080") << true;
        QTest::newRow("upper case") << QByteArray("LOCALHOST:8080") << true;
        QTest::newRow("sub.localhost") << QByteArray("app.localhost") << true;
        QTest::newRow("127.0.0.1") << QByteArray("127.0.0.1:4000") << true;
        QTest::newRow("127.9.9.9") << QByteArray("127.9.9.9") << true;
        QTest::newRow("127.0.0.1 bare") << QByteArray("127.0.0.1") << true;
        QTest::newRow("127.0.0.1 spaced") << QByteArray(" 127.0.0.1:80 ") << true;
        QTest::newRow("LocalHost bare") << QByteArray("LocalHost") << true;
        QTest::newRow("127.0.0.1 as a prefix") << QByteArray("127.0.0.1.evil.example:80") << false;
        QTest::newRow("127.0.0.1 with two colons") << QByteArray("127.0.0.1:80:80") << false;
        QTest::newRow("localhost with two colons") << QByteArray("localhost:1:2") << false;
        QTest::newRow("[::1]") << QByteArray("[::1]:4000") << true;
        QTest::newRow("bare ::1") << QByteArray("::1") << true;
        QTest::newRow("rebinding name") << QByteArray("evil.example:4000") << false;
        QTest::newRow("localhost as a prefix") << QByteArray("localhost.evil.example") << false;
        QTest::newRow("LAN address") << QByteArray("192.168.1.2") << false;
        QTest::newRow("unclosed bracket") << QByteArray("[::1") << false;
        QTest::newRow("empty") << QByteArray() << false;
    }
    void loopbackHosts()
    {
        QFETCH(QByteArray, host);
        QFETCH(bool, loopback);
        QCOMPARE(isLoopbackHost(host), loopback);
    }

    void admitsLoopbackRequests()
    {
        QVERIFY(!admitRequest(headers({{"host", "127.0.0.1:4000"}}), false, kOrigins));
        QVERIFY(!admitRequest(headers({{"host", "localhost"}, {"origin", "HTTP://LOCALHOST:3000"}}), false, kOrigins));
    }

    void refusals_data()
    {
        QTest::addColumn<HttpHeaders>("requestHeaders");
        QTest::addColumn<bool>("shuttingDown");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("shutting down") << headers({{"host", "localhost"}}) << true << 503
                                       << QByteArray("shutting_down");
        QTest::newRow("no host") << headers({}) << false << 400 << QByteArray("missing_host");
        QTest::newRow("empty host") << headers({{"host", ""}}) << false << 400 << QByteArray("missing_host");
        QTest::newRow("two hosts") << headers({{"host", "localhost"}, {"host", "evil.example"}}) << false << 400
                                   << QByteArray("duplicate_host");
        QTest::newRow("foreign host") << headers({{"host", "evil.example"}}) << false << 403
                                      << QByteArray("host_not_allowed");
        QTest::newRow("foreign origin") << headers({{"host", "localhost"}, {"origin", "https://evil.example"}}) << false
                                        << 403 << QByteArray("origin_not_allowed");
        QTest::newRow("null origin") << headers({{"host", "localhost"}, {"origin", "null"}}) << false << 403
                                     << QByteArray("origin_not_allowed");
    }
    void refusals()
    {
        QFETCH(HttpHeaders, requestHeaders);
        QFETCH(bool, shuttingDown);
        QFETCH(int, status);
        QFETCH(QByteArray, code);
        const auto error = admitRequest(requestHeaders, shuttingDown, kOrigins);
        QVERIFY(error);
        QCOMPARE(error->status, status);
        QCOMPARE(error->code, code);
        QVERIFY(!error->message.isEmpty());
    }

    void sessionIds()
    {
        QCOMPARE(sessionIdFrom(" 3f2c9a4e-1b7d-4c2a-9e8f-0a1b2c3d4e5f "),
            QStringLiteral("3f2c9a4e-1b7d-4c2a-9e8f-0a1b2c3d4e5f"));
        QCOMPARE(sessionIdFrom("run_1:step.2"), QStringLiteral("run_1:step.2"));
        QCOMPARE(sessionIdFrom(QByteArray(128, 'a')), QString(128, QLatin1Char('a')));
        QVERIFY(sessionIdFrom(QByteArray(129, 'a')).isEmpty());
        QVERIFY(sessionIdFrom("has space").isEmpty());
        QVERIFY(sessionIdFrom("quote\"d").isEmpty());
        QVERIFY(sessionIdFrom("").isEmpty());
    }

    void traceparents()
    {
        const QByteArray id = "4bf92f3577b34da6a3ce929d0e0e4736";
        const QByteArray parent = "00f067aa0ba902b7";
        const auto ok = traceContextFrom(" 00-" + id + "-" + parent + "-01 ");
        QVERIFY(ok);
        QCOMPARE(ok->traceId, id);
        QCOMPARE(ok->parentSpanId, parent);
        QVERIFY(traceContextFrom("00-" + id + "-" + parent + "-00")); // not sampled: still the caller's trace
        QVERIFY(traceContextFrom("01-" + id + "-" + parent + "-01-future")); // a later version may add fields
        QVERIFY(!traceContextFrom("01-" + id + "-" + parent + "-01future"));
        QVERIFY(!traceContextFrom("00-" + id + "-" + parent + "-01-extra")); // version 00 is exactly 55
        QVERIFY(!traceContextFrom("ff-" + id + "-" + parent + "-01"));
        QVERIFY(!traceContextFrom("00-" + QByteArray(32, '0') + "-" + parent + "-01"));
        QVERIFY(!traceContextFrom("00-" + id + "-" + QByteArray(16, '0') + "-01"));
        QVERIFY(!traceContextFrom("00-" + id.toUpper() + "-" + parent + "-01"));
        QVERIFY(!traceContextFrom("00-" + id.left(31) + "x-" + parent + "-01"));
        QVERIFY(!traceContextFrom("00-" + id + "_" + parent + "-01"));
        QVERIFY(!traceContextFrom(""));
        QVERIFY(!traceContextFrom("garbage"));
    }
};

QTEST_GUILESS_MAIN(TestAdmission)
#include "tst_admission.moc"
