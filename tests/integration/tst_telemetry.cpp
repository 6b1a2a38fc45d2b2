// What leaves the gateway for the user's monitoring: GET /metrics scraped like Prometheus does (its
// own token, the text format checked by promtool, bounded labels, budgets and breakers), and the
// OTLP/HTTP span export received by a collector stand-in (the mock upstream's POST /v1/traces):
// GenAI attributes, one span per request and per attempt, batches that survive a collector restart,
// and no prompt content.
#include "gatewaytestkit.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryFile>
#include <QTest>

using namespace gh::test;

namespace {

const QByteArray kSecretA = "gk-itest-telemetry-a-0001";
const QByteArray kSecretB = "gk-itest-telemetry-b-0002";
const QByteArray kScrapeToken = "scrape-token-Hq7v2LmZp0Xw";
const QByteArray kCollectorAuth = "collector-secret-5Tn8Wq";
const QString kPromptMarker = QStringLiteral("PROMPT-CONTENT-zx81-must-not-leave");

QJsonObject chat(const QString &model, bool stream = false)
{
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                         {QStringLiteral("content"), kPromptMarker}}}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return body;
}

// The value of the one sample whose line starts with `series` (name and labels as written), or -1.
double sample(const QByteArray &exposition, const QByteArray &series)
{
    for (const QByteArray &line : exposition.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).toDouble();
    }
    return -1;
}

// Every distinct value of `label` in the samples of `metric`.
QSet<QString> labelValues(const QByteArray &exposition, const QByteArray &metric, const QByteArray &label)
{
    QSet<QString> out;
    const QRegularExpression re(QStringLiteral("[{,]%1=\"([^\"]*)\"").arg(QString::fromLatin1(label)));
    for (const QByteArray &line : exposition.split('\n')) {
        if (!line.startsWith(metric + '{'))
            continue;
        const auto m = re.match(QString::fromUtf8(line));
        if (m.hasMatch())
            out.insert(m.captured(1));
    }
    return out;
}

QString attribute(const QJsonObject &span, const QString &key)
{
    for (const QJsonValue &a : span.value(QStringLiteral("attributes")).toArray()) {
        const QJsonObject o = a.toObject();
        if (o.value(QStringLiteral("key")).toString() != key)
            continue;
        const QJsonObject v = o.value(QStringLiteral("value")).toObject();
        if (v.contains(QStringLiteral("stringValue")))
            return v.value(QStringLiteral("stringValue")).toString();
        if (v.contains(QStringLiteral("intValue")))
            return v.value(QStringLiteral("intValue")).toString();
        if (v.contains(QStringLiteral("doubleValue")))
            return QString::number(v.value(QStringLiteral("doubleValue")).toDouble(), 'g', 17);
        if (v.contains(QStringLiteral("boolValue")))
            return v.value(QStringLiteral("boolValue")).toBool() ? QStringLiteral("true") : QStringLiteral("false");
    }
    return QStringLiteral("<absent>");
}

} // namespace

class TestTelemetry : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;
    QJsonObject m_config;

    HttpResponse post(const QJsonObject &body, const QByteArray &secret = kSecretA)
    {
        HttpClient client(m_h.gateway->port());
        return client.postJson("/v1/chat/completions", body, bearer(secret));
    }
    HttpResponse scrape(const Headers &headers = bearer(kScrapeToken))
    {
        HttpClient client(m_h.gateway->port());
        return client.get("/metrics", headers);
    }
    // Scrapes until `series` reaches `atLeast` (requests are counted as their log rows are published,
    // just after the answer).
    QByteArray scrapeUntil(const QByteArray &series, double atLeast)
    {
        QByteArray body;
        for (int i = 0; i < 100; ++i) {
            body = scrape().body;
            if (sample(body, series) >= atLeast)
                break;
            QTest::qWait(50);
        }
        return body;
    }
    // Every span the collector stand-in received so far, and the raw bodies.
    QList<QJsonObject> exportedSpans(QList<QJsonObject> *posts = nullptr)
    {
        QList<QJsonObject> spans;
        for (const QJsonValue &v : m_h.mock->receivedRequests()) {
            const QJsonObject r = v.toObject();
            if (!r.value(QStringLiteral("path")).toString().endsWith(QLatin1String("/v1/traces")))
                continue;
            if (posts)
                posts->append(r);
            const QJsonObject body = QJsonDocument::fromJson(r.value(QStringLiteral("body")).toString().toUtf8()).object();
            for (const QJsonValue &rs : body.value(QStringLiteral("resourceSpans")).toArray())
                for (const QJsonValue &ss : rs.toObject().value(QStringLiteral("scopeSpans")).toArray())
                    for (const QJsonValue &s : ss.toObject().value(QStringLiteral("spans")).toArray())
                        spans.append(s.toObject());
        }
        return spans;
    }
    QList<QJsonObject> spansOf(const QByteArray &requestId, int atLeast, int tries = 100)
    {
        QList<QJsonObject> out;
        for (int i = 0; i == 0 || (i < tries && out.size() < atLeast); ++i) {
            out.clear();
            for (const QJsonObject &s : exportedSpans()) {
                if (attribute(s, QStringLiteral("gatehouse.request.id")) == QString::fromLatin1(requestId))
                    out.append(s);
            }
            const QString traceId = out.isEmpty() ? QString() : out.first().value(QStringLiteral("traceId")).toString();
            for (const QJsonObject &s : exportedSpans()) {
                if (!traceId.isEmpty() && s.value(QStringLiteral("traceId")).toString() == traceId && !out.contains(s))
                    out.append(s);
            }
            if (out.size() < atLeast)
                QTest::qWait(100);
        }
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        // The collector's credential comes from the environment, as the config asks.
        qputenv("GH_ITEST_OTLP_AUTH", kCollectorAuth);
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"),
             QJsonArray{mockModel(QStringLiteral("mock/ok"), QStringLiteral("mock"), QStringLiteral("ok"), 2.0, 8.0),
                        mockModel(QStringLiteral("mock/bad"), QStringLiteral("mock"), QStringLiteral("fail-500"), 1.0, 1.0),
                        mockModel(QStringLiteral("mock/down"), QStringLiteral("mock"), QStringLiteral("fail-503"), 1.0, 1.0)}},
            {QStringLiteral("routes"),
             QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("fallback")},
                                    {QStringLiteral("strategy"), QStringLiteral("ordered")},
                                    {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), QStringLiteral("mock/down")}},
                                                                           QJsonObject{{QStringLiteral("model"), QStringLiteral("mock/ok")}}}}}}},
            {QStringLiteral("keys"),
             QJsonArray{testKey(QStringLiteral("team-a"), QString::fromLatin1(kSecretA), {}, QJsonObject{{QStringLiteral("day_usd"), 5}}),
                        testKey(QStringLiteral("team \"b\""), QString::fromLatin1(kSecretB))}},
            {QStringLiteral("settings"),
             QJsonObject{{QStringLiteral("metrics"), QJsonObject{{QStringLiteral("token"), QString::fromLatin1(kScrapeToken)}}},
                         {QStringLiteral("otlp"),
                          QJsonObject{{QStringLiteral("endpoint"), m_h.mock->rootUrl() + QStringLiteral("/flaky-1/v1/traces")},
                                      {QStringLiteral("headers"),
                                       QJsonObject{{QStringLiteral("authorization"), QJsonObject{{QStringLiteral("env"), QStringLiteral("GH_ITEST_OTLP_AUTH")}}},
                                                   {QStringLiteral("x-team"), QStringLiteral("platform")}}},
                                      {QStringLiteral("batch_size"), 4},
                                      {QStringLiteral("flush_interval_ms"), 200}}}}},
        };
        m_config = config;
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void cleanupTestCase()
    {
        if (m_h.gatewayRunning())
            QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    // The scrape endpoint answers only its own token: not anonymous, not a Gatehouse key.
    void scrapeNeedsItsToken()
    {
        const HttpResponse none = scrape({});
        QCOMPARE(none.status, 401);
        QVERIFY(none.header("www-authenticate").startsWith("Bearer"));
        QCOMPARE(scrape(bearer("scrape-token-wrong-000000")).status, 401);
        QCOMPARE(scrape(bearer(kSecretA)).status, 401);
        const HttpResponse ok = scrape();
        QCOMPARE(ok.status, 200);
        QVERIFY(ok.header("content-type").startsWith("text/plain; version=0.0.4"));
        // The token is no secret of the log: it must not be stored as given.
        QVERIFY(filesContaining(m_h.gateway->dataDir(), kScrapeToken).isEmpty());
        HttpClient client(m_h.gateway->port());
        QCOMPARE(client.request("POST", "/metrics", bearer(kScrapeToken)).status, 405);
    }

    // Requests of two keys, streamed and not, failed and failed over: counted by key, model, provider
    // and status, with tokens, cost, latency and TTFT histograms, budget remaining and breakers.
    void countsRequestsBudgetsAndBreakers()
    {
        for (int i = 0; i < 3; ++i)
            QCOMPARE(post(chat(QStringLiteral("mock/ok"))).status, 200);
        QCOMPARE(post(chat(QStringLiteral("mock/ok"), true)).status, 200);
        QCOMPARE(post(chat(QStringLiteral("mock/ok")), kSecretB).status, 200);
        // The provider's 500s reach the client as 502 (after retries), then the open breaker refuses.
        for (int i = 0; i < 3; ++i)
            QVERIFY(post(chat(QStringLiteral("mock/bad"))).status >= 502);

        const QByteArray okA = "gatehouse_requests_total{key=\"team-a\",model=\"mock/ok\",provider=\"mock\",status=\"200\"}";
        const QByteArray body = scrapeUntil("gatehouse_requests_total{key=\"team-a\",model=\"mock/bad\",provider=\"mock\",status=\"502\"}", 1);
        QCOMPARE(sample(body, okA), 4.0);
        QCOMPARE(sample(body, "gatehouse_requests_total{key=\"team \\\"b\\\"\",model=\"mock/ok\",provider=\"mock\",status=\"200\"}"), 1.0);
        const double input = sample(body, "gatehouse_tokens_total{key=\"team-a\",model=\"mock/ok\",provider=\"mock\",kind=\"input\"}");
        const double output = sample(body, "gatehouse_tokens_total{key=\"team-a\",model=\"mock/ok\",provider=\"mock\",kind=\"output\"}");
        QVERIFY2(input > 0 && output > 0, body.constData());
        const double cost = sample(body, "gatehouse_cost_usd_total{key=\"team-a\",model=\"mock/ok\",provider=\"mock\"}");
        QVERIFY2(qAbs(cost - (input * 2.0 + output * 8.0) / 1e6) < 1e-8, body.constData());
        QCOMPARE(sample(body, "gatehouse_request_duration_seconds_count{model=\"mock/ok\",provider=\"mock\"}"), 5.0);
        QCOMPARE(sample(body, "gatehouse_request_duration_seconds_bucket{model=\"mock/ok\",provider=\"mock\",le=\"+Inf\"}"), 5.0);
        QCOMPARE(sample(body, "gatehouse_time_to_first_token_seconds_count{model=\"mock/ok\",provider=\"mock\"}"), 1.0);
        // Budget: the day cap of team-a minus what it spent (nothing in flight now); team "b" has none.
        QCOMPARE(sample(body, "gatehouse_budget_limit_usd{key=\"team-a\",period=\"day\"}"), 5.0);
        const double remaining = sample(body, "gatehouse_budget_remaining_usd{key=\"team-a\",period=\"day\"}");
        const double spent = sample(body, "gatehouse_budget_spent_usd{key=\"team-a\",period=\"day\"}");
        QVERIFY2(qAbs(spent - cost) < 1e-9, body.constData());
        QVERIFY2(qAbs(remaining - (5.0 - cost)) < 1e-9, body.constData());
        QVERIFY(!body.contains("gatehouse_budget_remaining_usd{key=\"team \\\"b\\\"\""));
        // Three failures in a row open mock/bad's breaker (the default threshold).
        QCOMPARE(sample(body, "gatehouse_breaker_state{target=\"mock/bad\",state=\"open\"}"), 1.0);
        QCOMPARE(sample(body, "gatehouse_breaker_state{target=\"mock/bad\",state=\"closed\"}"), 0.0);
        QCOMPARE(sample(body, "gatehouse_breaker_state{target=\"mock/ok\",state=\"closed\"}"), 1.0);
        QVERIFY(sample(body, "gatehouse_upstream_attempts_total{model=\"mock/bad\",provider=\"mock\",outcome=\"failed\"}") >= 3);
        // No request ids, no prompt.
        QVERIFY(!body.contains("req_"));
        QVERIFY(!body.contains(kPromptMarker.toUtf8()));
    }

    // Models a client invents (any provider/name is accepted and forwarded) get their own series up
    // to a bound; the rest fold into "_other".
    void modelLabelsAreBounded()
    {
        constexpr int kInvented = 300;
        for (int i = 0; i < kInvented; ++i) {
            const HttpResponse r = post(chat(QStringLiteral("mock/invented-%1").arg(i)), kSecretB); // B may use unpriced models
            QVERIFY2(r.status > 0, qPrintable(r.describe()));
        }
        const QByteArray other = "gatehouse_request_duration_seconds_count{model=\"_other\",provider=\"mock\"}";
        const QByteArray body = scrapeUntil(other, 1);
        const QSet<QString> models = labelValues(body, "gatehouse_requests_total", "model");
        QVERIFY2(models.contains(QStringLiteral("_other")), body.left(2000).constData());
        QVERIFY2(models.size() <= 256 + 1, qPrintable(QString::number(models.size())));
    }

    // The exposition passes Prometheus' own format check.
    void promtoolAcceptsTheExposition()
    {
        const QString promtool = QStandardPaths::findExecutable(QStringLiteral("promtool"));
        if (promtool.isEmpty())
            QSKIP("promtool is not installed (Debian: apt-get install prometheus)");
        const HttpResponse r = scrape();
        QCOMPARE(r.status, 200);
        QProcess check;
        check.start(promtool, {QStringLiteral("check"), QStringLiteral("metrics")});
        QVERIFY(check.waitForStarted());
        check.write(r.body);
        check.closeWriteChannel();
        QVERIFY(check.waitForFinished(30000));
        const QByteArray out = check.readAllStandardOutput() + check.readAllStandardError();
        QVERIFY2(check.exitCode() == 0, out.constData());
        QVERIFY2(out.trimmed().isEmpty(), out.constData()); // no lint findings either
    }

    // One span per request and one per attempt, with the GenAI attributes, sent with the configured
    // headers; the first POST met a collector answering 503 and the spans came through anyway.
    void spansReachTheCollector()
    {
        const HttpResponse r = post(chat(QStringLiteral("fallback")));
        QCOMPARE(r.status, 200);
        const QByteArray id = r.header("x-gatehouse-request-id");
        QVERIFY(!id.isEmpty());
        const QList<QJsonObject> spans = spansOf(id, 3);
        QCOMPARE(spans.size(), 3); // the request, mock/down's failed attempt, mock/ok's
        QJsonObject request;
        QList<QJsonObject> attempts;
        for (const QJsonObject &s : spans) {
            if (s.value(QStringLiteral("parentSpanId")).toString().isEmpty())
                request = s;
            else
                attempts.append(s);
        }
        QCOMPARE(attempts.size(), 2);
        QCOMPARE(request.value(QStringLiteral("name")).toString(), QStringLiteral("chat fallback"));
        QCOMPARE(request.value(QStringLiteral("kind")).toInt(), 2);
        QCOMPARE(attribute(request, QStringLiteral("gen_ai.operation.name")), QStringLiteral("chat"));
        QCOMPARE(attribute(request, QStringLiteral("gen_ai.provider.name")), QStringLiteral("mock"));
        QCOMPARE(attribute(request, QStringLiteral("gen_ai.request.model")), QStringLiteral("fallback"));
        QCOMPARE(attribute(request, QStringLiteral("gen_ai.response.model")), QStringLiteral("ok"));
        QCOMPARE(attribute(request, QStringLiteral("gatehouse.key")), QStringLiteral("team-a"));
        QCOMPARE(attribute(request, QStringLiteral("gatehouse.route")), QStringLiteral("fallback"));
        const qint64 input = attribute(request, QStringLiteral("gen_ai.usage.input_tokens")).toLongLong();
        const qint64 output = attribute(request, QStringLiteral("gen_ai.usage.output_tokens")).toLongLong();
        QVERIFY(input > 0 && output > 0);
        QCOMPARE(attribute(request, QStringLiteral("gen_ai.usage.cache_read.input_tokens")), QStringLiteral("0"));
        QVERIFY(qAbs(attribute(request, QStringLiteral("gatehouse.cost_usd")).toDouble() - (input * 2.0 + output * 8.0) / 1e6) < 1e-8);
        QCOMPARE(request.value(QStringLiteral("status")).toObject().value(QStringLiteral("code")).toInt(), 1);
        for (const QJsonObject &a : attempts) {
            QCOMPARE(a.value(QStringLiteral("traceId")), request.value(QStringLiteral("traceId")));
            QCOMPARE(a.value(QStringLiteral("parentSpanId")), request.value(QStringLiteral("spanId")));
            QCOMPARE(a.value(QStringLiteral("kind")).toInt(), 3);
            const bool failed = attribute(a, QStringLiteral("gatehouse.model_id")) == QStringLiteral("mock/down");
            QCOMPARE(attribute(a, QStringLiteral("gatehouse.attempt.outcome")), failed ? QStringLiteral("failed") : QStringLiteral("ok"));
            QCOMPARE(a.value(QStringLiteral("status")).toObject().value(QStringLiteral("code")).toInt(), failed ? 2 : 1);
            if (failed)
                QCOMPARE(attribute(a, QStringLiteral("error.type")), QStringLiteral("503"));
            else
                QCOMPARE(attribute(a, QStringLiteral("gen_ai.usage.output_tokens")).toLongLong(), output);
            QVERIFY(a.value(QStringLiteral("endTimeUnixNano")).toString().toLongLong()
                    >= a.value(QStringLiteral("startTimeUnixNano")).toString().toLongLong());
        }

        QList<QJsonObject> posts;
        (void)exportedSpans(&posts);
        QVERIFY(posts.size() >= 2);
        for (const QJsonObject &p : posts) {
            const QJsonObject headers = p.value(QStringLiteral("headers")).toObject();
            QCOMPARE(headers.value(QStringLiteral("authorization")).toString(), QString::fromLatin1(kCollectorAuth));
            QCOMPARE(headers.value(QStringLiteral("x-team")).toString(), QStringLiteral("platform"));
            // Prompt content never leaves; nor does a Gatehouse key or the provider's.
            const QString body = p.value(QStringLiteral("body")).toString();
            QVERIFY(!body.contains(kPromptMarker));
            QVERIFY(!body.contains(QString::fromLatin1(kSecretA)));
            QVERIFY(!body.contains(QString::fromLatin1(kProviderKey)));
        }
        // The collector's credential is read from the environment, never stored.
        QVERIFY(filesContaining(m_h.gateway->dataDir(), kCollectorAuth).isEmpty());

        const HttpResponse metrics = scrape();
        QVERIFY(sample(metrics.body, "gatehouse_otlp_export_failures_total") >= 1); // the 503
        QVERIFY(sample(metrics.body, "gatehouse_otlp_spans_exported_total") >= 3);
    }

    // A caller's W3C traceparent puts the request's spans in the caller's trace, under its span; a
    // malformed one is ignored (the request starts its own trace), never refused.
    void callersTraceIsContinued()
    {
        const QByteArray traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        const QByteArray parent = "00f067aa0ba902b7";
        Headers headers = bearer(kSecretA);
        headers.append({"traceparent", "00-" + traceId + "-" + parent + "-01"});
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.postJson("/v1/chat/completions", chat(QStringLiteral("mock/ok")), headers);
        QCOMPARE(r.status, 200);
        const QList<QJsonObject> spans = spansOf(r.header("x-gatehouse-request-id"), 2);
        QCOMPARE(spans.size(), 2); // the request and its one attempt
        QJsonObject request;
        for (const QJsonObject &s : spans) {
            QCOMPARE(s.value(QStringLiteral("traceId")).toString(), QString::fromLatin1(traceId));
            if (s.value(QStringLiteral("kind")).toInt() == 2)
                request = s;
        }
        QCOMPARE(request.value(QStringLiteral("parentSpanId")).toString(), QString::fromLatin1(parent));
        for (const QJsonObject &s : spans) {
            if (s != request)
                QCOMPARE(s.value(QStringLiteral("parentSpanId")), request.value(QStringLiteral("spanId")));
        }

        Headers bad = bearer(kSecretA);
        bad.append({"traceparent", "00-" + QByteArray(32, '0') + "-" + parent + "-01"}); // an all-zero trace id
        const HttpResponse r2 = client.postJson("/v1/chat/completions", chat(QStringLiteral("mock/ok")), bad);
        QCOMPARE(r2.status, 200);
        const QList<QJsonObject> own = spansOf(r2.header("x-gatehouse-request-id"), 2);
        QVERIFY(!own.isEmpty());
        for (const QJsonObject &s : own) {
            QVERIFY(s.value(QStringLiteral("traceId")).toString() != QString::fromLatin1(traceId));
            QVERIFY(s.value(QStringLiteral("traceId")).toString() != QString(32, QLatin1Char('0')));
            if (s.value(QStringLiteral("kind")).toInt() == 2)
                QVERIFY(s.value(QStringLiteral("parentSpanId")).toString().isEmpty());
        }
    }

    // Off unless configured: a gateway without settings.metrics answers 404 and exports nothing.
    void offByDefault()
    {
        GatewayProcess plain;
        const QJsonObject config{{QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
                                 {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("k"), QString::fromLatin1(kSecretA))}}};
        QVERIFY2(startGateway(plain, config), qPrintable(plain.errorString()));
        HttpClient client(plain.port());
        const HttpResponse r = client.get("/metrics", bearer(kScrapeToken));
        QCOMPARE(r.status, 404);
        QVERIFY(openAIErrorProblem(r).isEmpty());
        plain.terminate();
    }

    // Wrong telemetry settings are refused at start with the path of the mistake.
    void badSettingsAreRefused_data()
    {
        QTest::addColumn<QJsonObject>("settings");
        QTest::addColumn<QString>("path");
        QTest::newRow("short token") << QJsonObject{{QStringLiteral("metrics"), QJsonObject{{QStringLiteral("token"), QStringLiteral("abc")}}}}
                                     << QStringLiteral("settings.metrics.token");
        QTest::newRow("endpoint") << QJsonObject{{QStringLiteral("otlp"), QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("ftp://x/v1/traces")}}}}
                                  << QStringLiteral("settings.otlp.endpoint");
        QTest::newRow("header") << QJsonObject{{QStringLiteral("otlp"), QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("http://127.0.0.1:1/v1/traces")},
                                                                                     {QStringLiteral("headers"), QJsonObject{{QStringLiteral("bad name"), QStringLiteral("v")}}}}}}
                                << QStringLiteral("settings.otlp.headers.bad name");
    }
    void badSettingsAreRefused()
    {
        QFETCH(QJsonObject, settings);
        QFETCH(QString, path);
        GatewayProcess bad;
        const QJsonObject config{{QStringLiteral("settings"), settings}};
        QVERIFY(!startGateway(bad, config));
        if (bad.isRunning())
            QVERIFY(bad.waitForExit(10000));
        QCOMPARE(bad.exitCode(), 2);
        QVERIFY2(bad.stderrText().contains(path), qPrintable(bad.stderrText()));
    }

    // The spans of the last requests are not lost when the gateway stops: it sends what waits before
    // it exits (here nothing would go out on its own: a batch of 100, a minute apart). A collector that
    // does not answer holds the exit up for the drain's bound only.
    void lastSpansLeaveAtShutdown()
    {
        QVERIFY(m_h.stop());
        QJsonObject config = m_config;
        QJsonObject settings = config.value(QStringLiteral("settings")).toObject();
        QJsonObject otlp = settings.value(QStringLiteral("otlp")).toObject();
        otlp[QStringLiteral("endpoint")] = m_h.mock->rootUrl() + QStringLiteral("/v1/traces");
        otlp[QStringLiteral("batch_size")] = 100;
        otlp[QStringLiteral("flush_interval_ms")] = 60'000;
        settings[QStringLiteral("otlp")] = otlp;
        config[QStringLiteral("settings")] = settings;
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QList<QByteArray> ids;
        for (int i = 0; i < 3; ++i) {
            const HttpResponse r = post(chat(QStringLiteral("mock/ok")));
            QCOMPARE(r.status, 200);
            ids.append(r.header("x-gatehouse-request-id"));
        }
        QTest::qWait(300);
        for (const QByteArray &id : std::as_const(ids))
            QVERIFY(spansOf(id, 1, 0).isEmpty()); // still waiting in the exporter's queue
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        for (const QByteArray &id : std::as_const(ids))
            QCOMPARE(spansOf(id, 2, 0).size(), 2); // the request and its one attempt

        // A collector that takes the connection and never answers: the exit waits about 2 s, not the
        // request timeout.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost));
        otlp[QStringLiteral("endpoint")] = QStringLiteral("http://127.0.0.1:%1/v1/traces").arg(silent.serverPort());
        settings[QStringLiteral("otlp")] = otlp;
        config[QStringLiteral("settings")] = settings;
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QCOMPARE(post(chat(QStringLiteral("mock/ok"))).status, 200);
        QTest::qWait(200);
        QElapsedTimer stopping;
        stopping.start();
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        qInfo() << "stopped in" << stopping.elapsed() << "ms with a silent collector";
        QVERIFY2(stopping.elapsed() < 10'000, qPrintable(QString::number(stopping.elapsed())));
        QVERIFY(m_h.gateway->stderrText().contains(QLatin1String("spans not sent")));
    }
};

QTEST_GUILESS_MAIN(TestTelemetry)
#include "tst_telemetry.moc"
