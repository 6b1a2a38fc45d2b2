// The Rankings and Cache analytics (store/analytics.h) against a small hand-made log written through
// gh::Store, so through migration 4's triggers. Every expected figure is computed by hand from the
// rows in initTestCase(); percentiles come from the log-spaced histogram and are checked to be within
// its bucket error (9.1%) of the exact nearest-rank value.
#include "postgresserver.h"
#include "store/analytics.h"
#include "store/pg.h"
#include "store/readdb.h"
#include "store/migrations.h"
#include "store/store.h"
#include <QDir>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <sqlite3.h>

using namespace gh;
using namespace gh::analytics;

namespace {

constexpr qint64 kHour = 3'600'000;
constexpr qint64 kDay = 86'400'000;
constexpr qint64 kD = 20'000 * kDay; // a UTC midnight (2024-10-04)
constexpr qint64 kNow = kD + 15 * kHour + 30 * 60'000; // 15:30 UTC that day

const QString kGpt = QStringLiteral("openai/gpt-4.1");
const QString kMini = QStringLiteral("openai/gpt-4.1-mini");
const QString kClaude = QStringLiteral("anthropic/claude");
const QString kDeepseek = QStringLiteral("deepseek/chat");

struct Row {
    const char *id;
    qint64 at;
    qint64 keyId;
    QString model; // "" : none (refused); "legacy" : no model id, provider/upstream only
    int status;
    bool stream;
    qint64 latency, ttft;
    qint64 input, cacheRead, cacheWrite, cacheWrite1h, output;
    std::optional<double> costUsd;
    int attempts = 1;
};

RequestRecord toRecord(const Row &r)
{
    RequestRecord rec;
    rec.id = QString::fromLatin1(r.id);
    rec.startedAtMs = r.at;
    rec.keyId = r.keyId;
    rec.keyName = QStringLiteral("key%1").arg(r.keyId);
    rec.endpoint = QStringLiteral("/v1/chat/completions");
    rec.requestedModel = r.model;
    if (r.model == QLatin1String("legacy")) {
        rec.provider = QStringLiteral("legacy");
        rec.upstreamModel = QStringLiteral("m1");
    } else if (!r.model.isEmpty()) {
        rec.modelId = r.model;
        rec.provider = r.model.section(u'/', 0, 0);
        rec.upstreamModel = r.model.section(u'/', 1);
    }
    rec.status = r.status;
    if (r.status >= 400)
        rec.error = QStringLiteral("failed with %1").arg(r.status);
    rec.stream = r.stream;
    rec.latencyMs = r.latency;
    rec.ttftMs = r.ttft;
    rec.usage.inputTokens = r.input;
    rec.usage.cacheReadTokens = r.cacheRead;
    rec.usage.cacheWriteTokens = r.cacheWrite;
    rec.usage.cacheWrite1hTokens = r.cacheWrite1h;
    rec.usage.outputTokens = r.output;
    rec.usage.reported = true;
    if (r.costUsd)
        rec.cost = fromUsd(*r.costUsd);
    rec.attempts = r.attempts;
    return rec;
}

ModelConfig model(const QString &id, double in, double out, std::optional<double> read,
    std::optional<double> write = std::nullopt, std::optional<double> write1h = std::nullopt)
{
    ModelConfig m;
    m.id = id;
    m.provider = id.section(u'/', 0, 0);
    m.upstreamModel = id.section(u'/', 1);
    m.price.input = in;
    m.price.output = out;
    m.price.cacheRead = read;
    m.price.cacheWrite = write;
    m.price.cacheWrite1h = write1h;
    return m;
}

// The exact nearest-rank percentile of `values`.
double exactPercentile(QList<qint64> values, double p)
{
    std::sort(values.begin(), values.end());
    const qsizetype rank = std::max<qsizetype>(1, qsizetype(std::ceil(p * double(values.size()) - 1e-9)));
    return double(values.at(rank - 1));
}

QList<quint64> blocks(std::initializer_list<quint64> v)
{
    return QList<quint64>(v);
}

// Every row of `sql` on the database at `path` (a SQLite file or a PostgreSQL URL), columns joined
// by commas (the error text when the query does not prepare).
QStringList dumpRows(const QString &path, const char *sql)
{
    if (pg::isPostgresUrl(path)) {
        pg::Connection conn;
        QString error;
        if (!conn.open(path, &error))
            return QStringList{error};
        pg::Statement s(conn, sql);
        QStringList rows;
        while (s.next()) {
            QStringList cols;
            for (int c = 0; c < s.columnCount(); ++c)
                cols << s.text(c);
            rows << cols.join(u',');
        }
        if (!s.ok())
            return QStringList{s.error()};
        return rows;
    }
    Analytics x;
    QStringList rows;
    if (!x.open(path))
        return rows;
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v2(x.handle(), sql, -1, &s, nullptr) != SQLITE_OK)
        return QStringList{QString::fromUtf8(sqlite3_errmsg(x.handle()))};
    while (sqlite3_step(s) == SQLITE_ROW) {
        QStringList cols;
        for (int c = 0; c < sqlite3_column_count(s); ++c)
            cols << QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(s, c)));
        rows << cols.join(u',');
    }
    sqlite3_finalize(s);
    return rows;
}

} // namespace

class TestAnalytics : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    Analytics m_analytics;
    // The PostgreSQL server of this run, its database and a read connection; nullptr: the run on SQLite.
    test::PostgresServer *m_pg = nullptr;
    QString m_url;
    pg::Connection m_pgConn;

    [[nodiscard]] QString dbPath() const
    {
        return m_pg ? m_url : QDir(m_dir.path()).filePath(QStringLiteral("gatehouse.db"));
    }
    // A new empty database for a test of its own.
    [[nodiscard]] QString freshPath(QTemporaryDir &dir, const char *name) const
    {
        if (!m_pg)
            return QDir(dir.path()).filePath(QLatin1String(name));
        QString error;
        const QString url = m_pg->createDatabase(&error);
        if (url.isEmpty())
            qFatal("cannot create a test database: %s", qPrintable(error));
        return url;
    }
    // The pages' queries on this run's back-end.
    Rankings rankings(const RankingsQuery &q)
    {
        return m_pg ? analytics::rankings(store::PgReadDb{&m_pgConn, {}}, q) : m_analytics.rankings(q);
    }
    CacheReport cache(const CacheQuery &q)
    {
        return m_pg ? analytics::cacheReport(store::PgReadDb{&m_pgConn, {}}, q) : m_analytics.cache(q);
    }
    PrefixDiagnosis prefixes(qint64 keyId)
    {
        return m_pg ? analytics::diagnosePrefixes(store::PgReadDb{&m_pgConn, {}}, keyId) : m_analytics.prefixes(keyId);
    }
    QList<qint64> latencyBounds()
    {
        return m_pg ? rankings(RankingsQuery{}).bounds : bucketBounds(m_analytics.handle());
    }

public:
    explicit TestAnalytics(test::PostgresServer *pg = nullptr) : m_pg(pg) {}

    static QList<Row> log()
    {
        // clang-format off
        return {
            // id        started at                  key model     status stream lat   ttft  input cRead cWrite c1h   out   cost
            {"req_a", kNow - 10 * 60'000,             1, kGpt,     200, true,  1000, 200,  1000, 3000, 0,     0,    400, 0.02},  // raw tail
            {"req_b", kNow - 2 * kHour,               1, kGpt,     200, true,  2000, 500,  500,  0,    1500,  0,    300, 0.01},  // hourly
            {"req_c", kD - 3 * kDay + 12 * kHour,     1, kGpt,     200, false, 3000, -1,   2000, 0,    0,     0,    100, 0.03},  // daily
            {"req_d", kD - 6 * kDay - 2 * kHour,      1, kGpt,     502, false, 50,   -1,   0,    0,    0,     0,    0,   std::nullopt}, // hourly head
            {"req_e", kNow - 7 * kDay + 10 * 60'000,  1, kGpt,     499, true,  700,  150,  100,  0,    0,     0,    10,  0.001}, // raw head
            {"req_f", kNow - 7 * kDay - kHour,        1, kGpt,     200, false, 900,  -1,   100,  0,    0,     0,    10,  1.00},  // before 7 d
            {"req_g", kNow - 30 * 60'000,             2, kGpt,     200, true,  1500, 300,  100,  0,    0,     0,    240, 0.005},
            {"req_h", kNow - 40 * 60'000,             0, QString(), 401, false, 1,   -1,   0,    0,    0,     0,    0,   std::nullopt, 0}, // refused
            {"req_i", kNow - 4 * kHour,               1, QStringLiteral("legacy"), 200, false, 800, -1, 200, 500, 0, 0, 20, std::nullopt},
            {"req_j", kNow - 5 * kHour,               1, kMini,    200, false, 400,  -1,   1000, 0,    0,     0,    100, 0.0006},
            {"req_k", kNow - 3 * kHour,               2, kClaude,  200, true,  5000, 900,  10,   9000, 500,   490,  50,  0.01},
        };
        // clang-format on
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qInfo("back-end: %s", m_pg ? "PostgreSQL" : "SQLite");
        if (m_pg) {
            QString error;
            m_url = m_pg->createDatabase(&error);
            QVERIFY2(!m_url.isEmpty(), qPrintable(error));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(dbPath(), &error), qPrintable(error));
        QVERIFY(store.saveModel(model(kGpt, 2.0, 8.0, 0.5)));
        QVERIFY(store.saveModel(model(kMini, 0.4, 1.6, 0.1)));
        QVERIFY(store.saveModel(model(kClaude, 3.0, 15.0, 0.3, 3.75, 6.0)));
        QVERIFY(store.saveModel(model(kDeepseek, 0.27, 1.1, 0.07)));
        for (const Row &r : log())
            store.appendRequest(toRecord(r));

        // Prompt prefixes of key 3, a month ago (outside every period below). S = system blocks,
        // T = tools, M = messages; system_bytes 1500, tools_bytes 600 (so block 1 is in the system
        // prompt, block 2 in the tools).
        const QList<QList<quint64>> prompts{
            blocks({10, 11, 20, 30}), blocks({10, 12, 20, 30, 31}), // differs at block 1
            blocks({10, 13, 20, 30, 31}), // block 1
            blocks({10, 13, 20, 30, 31, 32}), // extends: kept
            blocks({10, 14, 20, 33}), // block 1
            blocks({10, 14, 21, 34}), // block 2
            blocks({10, 14, 21, 35}), // the older one's last (partial) block: kept
            blocks({10, 14, 21, 36, 37}), // kept likewise
        };
        for (int i = 0; i < prompts.size(); ++i) {
            RequestRecord r
                = toRecord(Row{"", kD - 30 * kDay + i * 60'000, 3, kMini, 200, false, 100, -1, 10, 0, 0, 0, 1, 0.0});
            r.id = QStringLiteral("req_p%1").arg(i);
            r.promptBlocks = prompts.at(i);
            r.promptSystemBytes = 1500;
            r.promptToolsBytes = 600;
            store.appendRequest(r);
        }
        store.flush();

        // Compare votes, two days ago: gpt and mini win 3 of 6 rounds each; deepseek 2 of 6;
        // claude 4 of 6 (better, but dearer).
        for (int i = 0; i < 6; ++i) {
            const qint64 at = kNow - 2 * kDay;
            QVERIFY(store.saveRoundVotes(QStringLiteral("r%1").arg(i),
                {{QString(), kGpt, i < 3 ? 1 : 0, at}, {QString(), kMini, i < 3 ? 0 : 1, at}}));
            QVERIFY(store.saveRoundVotes(QStringLiteral("s%1").arg(i),
                {{QString(), kDeepseek, i < 2 ? 1 : 0, at}, {QString(), kClaude, i < 2 ? 0 : 1, at}}));
        }
        store.close();
        QString openError;
        if (m_pg)
            QVERIFY2(m_pgConn.open(m_url, &openError), qPrintable(openError));
        else
            QVERIFY2(m_analytics.open(dbPath(), &openError), qPrintable(openError));
    }

    void planSplitsPeriods()
    {
        // Inside one hour: raw rows only.
        QCOMPARE(plan(kD + 10, kD + 20), (QList<Segment>{{Segment::Raw, kD + 10, kD + 20}}));
        // 24 hours ending mid-hour: raw head, hours, raw tail.
        QCOMPARE(plan(kNow - kDay, kNow),
            (QList<Segment>{{Segment::Raw, kNow - kDay, kD - 8 * kHour},
                {Segment::Hour, kD - 8 * kHour, kD + 15 * kHour}, {Segment::Raw, kD + 15 * kHour, kNow}}));
        // 7 days: hours around whole days.
        QCOMPARE(plan(kNow - 7 * kDay, kNow),
            (QList<Segment>{{Segment::Raw, kNow - 7 * kDay, kD - 7 * kDay + 16 * kHour},
                {Segment::Hour, kD - 7 * kDay + 16 * kHour, kD - 6 * kDay}, {Segment::Day, kD - 6 * kDay, kD},
                {Segment::Hour, kD, kD + 15 * kHour}, {Segment::Raw, kD + 15 * kHour, kNow}}));
        // Aligned ends: no raw parts.
        QCOMPARE(plan(kD - kDay, kD + kDay), (QList<Segment>{{Segment::Day, kD - kDay, kD + kDay}}));
        QVERIFY(plan(kD, kD).isEmpty());
    }

    void bucketsMatchTheTriggers()
    {
        const QList<qint64> bounds = latencyBounds();
        QCOMPARE(bounds.size(), 84);
        QCOMPARE(bounds.first(), 0);
        QCOMPARE(bucketOf(0, bounds), 0);
        QCOMPARE(bucketOf(-5, bounds), 0);
        QCOMPARE(bucketOf(9, bounds), 8); // [8, 10)
        QCOMPARE(bucketOf(10, bounds), 9);
        QCOMPARE(bucketOf(99'999'999, bounds), 83);
        // Every bucket is at most 2^(1/4) wide above the exact small values.
        for (int b = 1; b + 1 < bounds.size(); ++b)
            QVERIFY(std::sqrt(double(bounds[b + 1] - 1) / double(bounds[b])) - 1 <= 0.0906);
    }

    void rankingsOfSevenDays()
    {
        RankingsQuery q;
        q.period = {kNow - 7 * kDay, kNow};
        q.slices = 7;
        const Rankings r = rankings(q);
        QVERIFY2(r.ok, qPrintable(r.error));
        // gpt 0.066, mini 0.0006, claude 0.01, legacy unpriced; the refused request has no model.
        QCOMPARE(r.models.size(), 4);
        QCOMPARE(r.models[0].model, kGpt);
        QCOMPARE(r.models[1].model, kClaude);
        QCOMPARE(r.models[2].model, kMini);
        QCOMPARE(r.models[3].model, QStringLiteral("legacy/m1")); // no model id: provider/upstream

        const ModelRanking &g = r.models[0];
        QCOMPARE(g.provider, QStringLiteral("openai"));
        QCOMPARE(g.sums.requests, 6); // a b c d e g
        QCOMPARE(g.sums.cancelled, 1); // e
        QCOMPARE(g.sums.errors, 1); // d
        QCOMPARE(g.sums.errorRate(), 1.0 / 5.0);
        QCOMPARE(g.sums.cost, fromUsd(0.066));
        QCOMPARE(g.sums.outputTokens, 1050);
        QVERIFY(qAbs(g.costPer1kOutput() - 0.066 * 1000 / 1050) < 1e-12);
        // Cache: 3000 read of 1000+500+2000+100+100 uncached + 3000 read + 1500 written.
        QCOMPARE(g.sums.promptTokens(), 8200);
        QCOMPARE(g.sums.cacheHitRate(), 3000.0 / 8200.0);
        // tokens/s over streamed ok rows a, b, g: (400 + 300 + 240) / (0.8 + 1.5 + 1.2 s)
        QCOMPARE(g.sums.tokensPerSecond(), 940.0 * 1000.0 / 3500.0);
        // Latency of ok rows a b c g: 1000 1500 2000 3000; TTFT of a b g: 200 300 500.
        QCOMPARE(g.latency.count(), 4);
        QCOMPARE(g.ttft.count(), 3);
        const QList<qint64> lat{1000, 2000, 3000, 1500}, ttft{200, 500, 300};
        for (const auto &[p, values, hist] :
            {std::tuple{0.5, lat, &g.latency}, std::tuple{0.95, lat, &g.latency}, std::tuple{0.5, ttft, &g.ttft}}) {
            const double exact = exactPercentile(values, p);
            const double estimate = hist->percentile(p, r.bounds);
            QVERIFY2(qAbs(estimate / exact - 1) <= 0.091,
                qPrintable(QStringLiteral("p%1: %2 vs %3").arg(p).arg(estimate).arg(exact)));
        }
        QCOMPARE(exactPercentile(lat, 0.5), 1500.0);
        QCOMPARE(exactPercentile(lat, 0.95), 3000.0);
        // Votes of the period: 6 rounds, 3 wins.
        QCOMPARE(g.votes.rounds, 6);
        QCOMPARE(g.votes.wins, 3);
        QCOMPARE(g.winRate(), 0.5);
        // The trend: 7 slices of 24 h from 15:30 seven days ago. d (day 1, 13:30 + ...) and c, e, a b g.
        QCOMPARE(g.trendRequests.size(), 7);
        qint64 trendSum = 0;
        for (qint64 n : g.trendRequests)
            trendSum += n;
        QCOMPARE(trendSum, 6);
        QCOMPARE(g.trendRequests.last(), 3); // a, b, g in the last 24 h
        QCOMPARE(g.trendRequests.first(), 2); // e and d in the first 24 h

        const ModelRanking &legacy = r.models[3];
        QCOMPARE(legacy.sums.unpriced, 1);
        QCOMPARE(legacy.costPer1kOutput(), -1.0);
        const ModelRanking &claude = r.models[1];
        // Anthropic-style usage: 9000 read of 10 + 9000 + 500 + 490.
        QCOMPARE(claude.sums.cacheHitRate(), 0.9);
        QCOMPARE(claude.sums.tokensPerSecond(), 50.0 * 1000.0 / 4100.0);
        QCOMPARE(claude.votes.rounds, 6);
        QCOMPARE(claude.votes.wins, 4);
    }

    void youCouldSave()
    {
        RankingsQuery q;
        q.period = {kNow - 7 * kDay, kNow};
        const Rankings r = rankings(q);
        QVERIFY(r.ok);
        // Only gpt -> mini: same 50% win rate; gpt's tokens at mini's prices: 3700 input x 0.4 +
        // 3000 read x 0.1 + 1500 written x 0.4 (no write price: input) + 1050 output x 1.6 per million.
        QCOMPARE(r.savings.size(), 1);
        const Saving &s = r.savings.first();
        QCOMPARE(s.model, kGpt);
        QCOMPARE(s.alternative, kMini);
        QCOMPARE(s.spend, fromUsd(0.066));
        QCOMPARE(s.alternativeCost, fromUsd((3700 * 0.4 + 3000 * 0.1 + 1500 * 0.4 + 1050 * 1.6) / 1e6));
        QCOMPARE(s.modelRounds, 6);
        QCOMPARE(s.alternativeWinRate, 0.5);
        // Not with too few votes.
        q.minRounds = 7;
        QVERIFY(rankings(q).savings.isEmpty());
    }

    void keyFilterAndShorterPeriods()
    {
        RankingsQuery q;
        q.period = {kNow - 7 * kDay, kNow, 2};
        Rankings r = rankings(q);
        QVERIFY(r.ok);
        QCOMPARE(r.models.size(), 2); // claude (0.01) and gpt (0.005)
        QCOMPARE(r.models[1].model, kGpt);
        QCOMPARE(r.models[1].sums.requests, 1);
        QCOMPARE(r.models[1].sums.cost, fromUsd(0.005));

        q.period = {kNow - kDay, kNow};
        r = rankings(q);
        QVERIFY(r.ok);
        QCOMPARE(r.models[0].model, kGpt);
        QCOMPARE(r.models[0].sums.requests, 3); // a b g
        QCOMPARE(r.models[0].votes.rounds, 0); // the votes are two days old

        // Everything: f joins; the prompt-prefix rows (mini, a month ago) too.
        q.period = {0, kNow + 1};
        r = rankings(q);
        QVERIFY(r.ok);
        QCOMPARE(r.fromMs, kD - 30 * kDay);
        qint64 requests = 0;
        NanoUsd cost = 0;
        for (const ModelRanking &m : std::as_const(r.models)) {
            requests += m.sums.requests;
            cost += m.sums.cost;
        }
        QCOMPARE(requests, 10 + 8); // every row but the refused one
        QCOMPARE(cost, fromUsd(0.066 + 1.00 + 0.0006 + 0.01));
    }

    void cacheByProviderModelAndKey()
    {
        CacheQuery q;
        q.period = {kNow - 7 * kDay, kNow};
        for (int d = -7; d <= 1; ++d)
            q.chartEdges.append(kD + d * kDay);
        const CacheReport c = cache(q);
        QVERIFY2(c.ok, qPrintable(c.error));
        // Saved: gpt 3000 x (2 - 0.5) + claude 9000 x (3 - 0.3) per million; legacy has no prices.
        const NanoUsd gptSaved = 3000 * 1500, claudeSaved = 9000 * 2700;
        QCOMPARE(c.total.saved, gptSaved + claudeSaved);
        QCOMPARE(c.total.unpricedReadTokens, 500);
        QCOMPARE(c.total.sums.cacheReadTokens, 3000 + 9000 + 500);

        QCOMPARE(c.byModel.size(), 4);
        QCOMPARE(c.byModel[0].name, kClaude); // 10000 prompt tokens
        QCOMPARE(c.byModel[0].saved, claudeSaved);
        QCOMPARE(c.byModel[0].sums.cacheHitRate(), 0.9);
        QCOMPARE(c.byModel[1].name, kGpt); // 8200
        QCOMPARE(c.byModel[1].saved, gptSaved);

        QCOMPARE(c.byProvider.size(), 3);
        QCOMPARE(c.byProvider[0].name, QStringLiteral("anthropic"));
        QCOMPARE(c.byProvider[1].name, QStringLiteral("openai"));
        QCOMPARE(c.byProvider[1].sums.promptTokens(), 8200 + 1000);
        QCOMPARE(c.byProvider[2].name, QStringLiteral("legacy"));
        QCOMPARE(c.byProvider[2].saved, 0);

        // Keys: 2 (claude + g: 10100), 1 (9800), 0 (the refused request: no tokens).
        QCOMPARE(c.byKey.size(), 3);
        QCOMPARE(c.byKey[0].keyId, 2);
        QCOMPARE(c.byKey[0].sums.cacheHitRate(), 9000.0 / 10100.0);
        QCOMPARE(c.byKey[1].keyId, 1);
        QCOMPARE(c.byKey[1].sums.promptTokens(), 9800);
        QCOMPARE(c.byKey[1].sums.cacheHitRate(), 3500.0 / 9800.0);
        QCOMPARE(c.byKey[1].saved, gptSaved);
        QCOMPARE(c.byKey[1].unpricedReadTokens, 500);
        QCOMPARE(c.byKey[2].keyId, 0);
        QCOMPARE(c.byKey[2].sums.cacheHitRate(), -1.0);

        // The chart by UTC day: c on day -3; a b g i j k today; f and d on day -7 and -7.
        QCOMPARE(c.chart.size(), 8);
        QCOMPARE(c.chart[4].fromMs, kD - 3 * kDay);
        QCOMPARE(c.chart[4].sums.inputTokens, 2000);
        QCOMPARE(c.chart[7].sums.cacheReadTokens, 3000 + 9000 + 500);
        QCOMPARE(c.chart[7].saved, gptSaved + claudeSaved);
        QCOMPARE(c.chart[0].sums.requests, 3); // d, e and f (the chart covers its whole days)
    }

    void prefixDiagnosis()
    {
        const PrefixDiagnosis d = prefixes(3);
        QCOMPARE(d.prompts, 8);
        QCOMPARE(d.pairs, 7);
        QCOMPARE(d.kept, 3);
        QCOMPARE(d.firstDifference.value(1), 3);
        QCOMPARE(d.firstDifference.value(2), 1);
        QCOMPARE(d.block, 1);
        QCOMPARE(d.byte, 1024);
        QCOMPARE(d.section, QStringLiteral("system"));
        QCOMPARE(d.atBlock, 3);
        const PrefixDiagnosis none = prefixes(1);
        QCOMPARE(none.prompts, 0);
        QCOMPARE(none.block, -1);

        QCOMPARE(firstDifference({1, 2, 3}, {1, 2, 3}), -1);
        QCOMPARE(firstDifference({1, 2, 3}, {1, 9, 3}), 1);
        QCOMPARE(firstDifference({1, 2, 3}, {1, 2, 4, 5}), -1); // grew past the older partial block
        QCOMPARE(firstDifference({1, 2, 3, 4}, {1, 2, 9}), 2); // shorter and different
        QCOMPARE(firstDifference({}, {1}), -1);
        QCOMPARE(decodeBlocks(QByteArray::fromHex("0100000000000000ffeeddccbbaa9988")),
            (QList<quint64>{1, 0x8899aabbccddeeffULL}));
        QCOMPARE(decodeBlocks(QByteArray::fromHex("0102")), QList<quint64>{}); // truncated: ignored
    }

    // Rollups kept by the writer against the same figures summed from the raw rows for random
    // periods of a random log; then the backfill of a version-3 database, and deletes.
    void rollupsMatchTheRawRows()
    {
        if (m_pg)
            QSKIP("SQLite's migrations and delete trigger (PostgreSQL: writerRollupsMatchRequestFacts)");
        QTemporaryDir dir;
        const QString path = QDir(dir.path()).filePath(QStringLiteral("random.db"));
        auto *rng = QRandomGenerator::global();
        QList<RequestRecord> records;
        for (int i = 0; i < 3000; ++i) {
            Row row{"", kD - 10 * kDay + qint64(rng->bounded(12 * 24 * 60)) * 60'000 + rng->bounded(60'000),
                1 + rng->bounded(3), QStringList{kGpt, kMini, kClaude}.at(rng->bounded(3)),
                rng->bounded(10) == 0 ? 502 : 200, rng->bounded(2) == 0, rng->bounded(1, 20'000),
                rng->bounded(2) ? -1 : rng->bounded(0, 3000), rng->bounded(5000), rng->bounded(5000), rng->bounded(100),
                0, rng->bounded(1000), rng->bounded(7) == 0 ? std::nullopt : std::optional<double>(0.001)};
            RequestRecord r = toRecord(row);
            r.id = QStringLiteral("req_r%1").arg(i);
            records.append(r);
        }
        {
            Store store;
            QVERIFY(store.open(path));
            for (const RequestRecord &r : std::as_const(records))
                store.appendRequest(r);
            store.close();
        }
        Analytics a;
        QVERIFY(a.open(path));
        const QList<qint64> bounds = bucketBounds(a.handle());
        auto check = [&](qint64 from, qint64 to, std::optional<qint64> key) {
            RankingsQuery q;
            q.period = {from, to, key};
            const Rankings r = a.rankings(q);
            QVERIFY(r.ok);
            QHash<QString, Sums> expected;
            QHash<QString, QList<qint64>> latencies;
            for (const RequestRecord &rec : std::as_const(records)) {
                if (rec.startedAtMs < from || rec.startedAtMs >= to || (key && rec.keyId != *key))
                    continue;
                Sums &s = expected[rec.modelId];
                s.requests += 1;
                s.errors += rec.status != 200;
                s.cost += rec.cost.value_or(0);
                s.inputTokens += rec.usage.inputTokens;
                s.cacheReadTokens += rec.usage.cacheReadTokens;
                s.outputTokens += rec.usage.outputTokens;
                if (rec.status == 200)
                    latencies[rec.modelId].append(rec.latencyMs);
            }
            QCOMPARE(r.models.size(), expected.size());
            for (const ModelRanking &m : r.models) {
                const Sums e = expected.value(m.model);
                QCOMPARE(m.sums.requests, e.requests);
                QCOMPARE(m.sums.errors, e.errors);
                QCOMPARE(m.sums.cost, e.cost);
                QCOMPARE(m.sums.inputTokens, e.inputTokens);
                QCOMPARE(m.sums.cacheReadTokens, e.cacheReadTokens);
                QCOMPARE(m.sums.outputTokens, e.outputTokens);
                QCOMPARE(m.latency.count(), latencies.value(m.model).size());
                if (latencies.value(m.model).isEmpty())
                    continue; // every request of this model in the window failed: no latency to compare
                for (double p : {0.5, 0.95}) {
                    const double exact = exactPercentile(latencies.value(m.model), p);
                    // Same bucket as the exact value: within the bucket error.
                    QCOMPARE(bucketOf(qint64(std::llround(m.latency.percentile(p, bounds))), bounds),
                        bucketOf(qint64(exact), bounds));
                    QVERIFY(qAbs(m.latency.percentile(p, bounds) / exact - 1) <= 0.091);
                }
            }
        };
        check(kD - 7 * kDay + 123'456, kD - 12'345, std::nullopt);
        check(kD - 3 * kDay + 7'777, kD - 2 * kDay - 1, 2);
        check(kD - 9 * kDay - 5 * kHour, kD + kDay + 17, std::nullopt);
        check(kD - 4 * kDay + 10 * 60'000, kD - 4 * kDay + 50 * 60'000, std::nullopt);
        if (QTest::currentTestFailed())
            return;

        // A version-3 database with the same rows: migration 4 backfills the same rollups.
        const QString oldPath = QDir(dir.path()).filePath(QStringLiteral("v3.db"));
        {
            sqlite3 *db = nullptr;
            QCOMPARE(sqlite3_open(QFile::encodeName(oldPath).constData(), &db), SQLITE_OK);
            for (const store::Migration &m : store::migrations()) {
                if (m.version <= 3)
                    QCOMPARE(sqlite3_exec(db, m.sql, nullptr, nullptr, nullptr), SQLITE_OK);
            }
            QCOMPARE(sqlite3_exec(db, "PRAGMA user_version = 3", nullptr, nullptr, nullptr), SQLITE_OK);
            const QByteArray attach = "ATTACH '" + QFile::encodeName(path) + "' AS src";
            QCOMPARE(sqlite3_exec(db, attach.constData(), nullptr, nullptr, nullptr), SQLITE_OK);
            // The version-3 columns by name: later migrations add columns to requests.
            QByteArray columns;
            {
                sqlite3_stmt *stmt = nullptr;
                QCOMPARE(sqlite3_prepare_v2(db, "SELECT group_concat(name, ', ') FROM pragma_table_info('requests', 'main')",
                                            -1, &stmt, nullptr),
                         SQLITE_OK);
                QCOMPARE(sqlite3_step(stmt), SQLITE_ROW);
                columns = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
                sqlite3_finalize(stmt);
            }
            const QByteArray copy = "INSERT INTO main.requests (" + columns + ") SELECT " + columns + " FROM src.requests";
            QCOMPARE(sqlite3_exec(db, copy.constData(), nullptr, nullptr, nullptr), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "DETACH src", nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(db);
        }
        {
            Store store;
            QString error;
            QVERIFY2(store.open(oldPath, &error), qPrintable(error));
            store.close();
        }
        const char *rollups = "SELECT * FROM rollups ORDER BY grain, t, key_id, model, provider";
        const char *latency = "SELECT * FROM rollup_latency ORDER BY grain, t, key_id, model, metric, bucket";
        QVERIFY(!dumpRows(path, rollups).isEmpty());
        QCOMPARE(dumpRows(oldPath, rollups), dumpRows(path, rollups));
        QCOMPARE(dumpRows(oldPath, latency), dumpRows(path, latency));

        // Deleting rows takes them out of the rollups.
        {
            sqlite3 *db = nullptr;
            QCOMPARE(sqlite3_open(QFile::encodeName(path).constData(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "DELETE FROM requests WHERE key_id = 2", nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(db);
        }
        records.removeIf([](const RequestRecord &r) { return r.keyId == 2; });
        check(kD - 9 * kDay - 5 * kHour, kD + kDay + 17, std::nullopt);
        check(kD - 9 * kDay, kD, 2);
    }

    // The writer folds each batch into one upsert per rollup row: over many batches and every kind of
    // row (refused, cancelled, errors with a 2xx, legacy and empty models, unpriced, negative and huge
    // latencies, streams without output, duplicate ids), the rollups equal migration 4's backfill
    // computed from the request_facts view over the same rows, column by column.
    void writerRollupsMatchRequestFacts()
    {
        QTemporaryDir dir;
        const QString path = freshPath(dir, "edge.db");
        auto *rng = QRandomGenerator::global();
        const QStringList models{QStringLiteral("openai/gpt-4.1"), QStringLiteral("anthropic/claude-s\u00e9"),
                                 QString(), QStringLiteral("x/y")};
        {
            Store store;
            QVERIFY(store.open(path));
            store.setBatchWindowMs(1);
            for (int i = 0; i < 4000; ++i) {
                RequestRecord r;
                r.id = QStringLiteral("req_e%1").arg(rng->bounded(3900)); // some duplicates: not logged
                r.startedAtMs = kD - kDay + qint64(rng->bounded(3 * 24)) * kHour + rng->bounded(3) * (kHour - 1);
                r.keyId = rng->bounded(3);
                const QString model = models.at(rng->bounded(models.size()));
                switch (rng->bounded(4)) {
                case 0: r.modelId = model; r.provider = model.section(u'/', 0, 0); r.upstreamModel = model.section(u'/', 1); break;
                case 1: r.provider = QStringLiteral("legacy"); r.upstreamModel = QStringLiteral("m%1").arg(rng->bounded(2)); break;
                case 2: r.provider = QStringLiteral("legacy"); break; // no upstream model: ''
                default: break;
                }
                r.status = QList<int>{200, 204, 299, 300, 199, 499, 500, 429}.at(rng->bounded(8));
                if (rng->bounded(5) == 0)
                    r.error = QStringLiteral("boom");
                r.attempts = rng->bounded(3);
                r.stream = rng->bounded(2) == 0;
                r.latencyMs = QList<qint64>{-5, 0, 1, 9, 10, 3'600'000, 99'999'999}.at(rng->bounded(7));
                if (rng->bounded(2))
                    r.latencyMs = rng->bounded(20'000);
                r.ttftMs = rng->bounded(3) == 0 ? -1 : (rng->bounded(4) == 0 ? r.latencyMs : rng->bounded(5'000));
                r.usage.inputTokens = rng->bounded(3) == 0 ? 0 : rng->bounded(5000);
                r.usage.cacheReadTokens = rng->bounded(2) * rng->bounded(5000);
                r.usage.cacheWriteTokens = rng->bounded(2) * rng->bounded(300);
                r.usage.cacheWrite1hTokens = rng->bounded(4) == 0 ? rng->bounded(100) : 0;
                r.usage.outputTokens = rng->bounded(3) == 0 ? 0 : rng->bounded(1000);
                if (rng->bounded(4) != 0)
                    r.cost = rng->bounded(1'000'000);
                store.appendRequest(r);
                if (rng->bounded(300) == 0)
                    store.flush(); // many batches: later ones update the rows earlier ones made
            }
            store.close();
        }
        const QStringList rollups = dumpRows(path, "SELECT * FROM rollups ORDER BY grain, t, key_id, model, provider");
        const QStringList expected = dumpRows(path,
            "SELECT g.grain, started_at_ms / CASE g.grain WHEN 0 THEN 3600000 ELSE 86400000 END AS tt, key_id, model, "
            "provider, sum(requests), sum(refused), sum(cancelled), sum(errors), sum(cost_nano_usd), sum(unpriced), "
            "sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), "
            "sum(output_tokens), sum(stream_output_tokens), sum(stream_generation_ms) "
            "FROM request_facts, (SELECT 0 AS grain UNION ALL SELECT 1) g GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5");
        QVERIFY(rollups.size() > 100);
        QCOMPARE(rollups, expected);
        const QStringList latency =
            dumpRows(path, "SELECT * FROM rollup_latency ORDER BY grain, t, key_id, model, metric, bucket");
        const QStringList expectedLatency = dumpRows(path,
            "SELECT grain, tt, key_id, model, metric, bucket, count(*) FROM ("
            " SELECT g.grain, started_at_ms / CASE g.grain WHEN 0 THEN 3600000 ELSE 86400000 END AS tt, key_id, model,"
            " m.metric, CASE m.metric WHEN 0 THEN latency_bucket ELSE ttft_bucket END AS bucket"
            " FROM request_facts, (SELECT 0 AS grain UNION ALL SELECT 1) g, (SELECT 0 AS metric UNION ALL SELECT 1) m) AS f"
            " WHERE bucket IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6");
        QVERIFY(latency.size() > 100);
        QCOMPARE(latency, expectedLatency);
        // Every kind of row was there.
        QVERIFY(dumpRows(path, "SELECT CASE WHEN sum(refused) > 0 AND sum(cancelled) > 0 AND sum(errors) > 0 AND sum(unpriced) > 0 "
                           "AND sum(stream_generation_ms) > 0 THEN 1 ELSE 0 END FROM rollups")
                == QStringList{QStringLiteral("1")});
    }

    void percentileEdgeCases()
    {
        const QList<qint64> bounds = latencyBounds();
        LatencyHistogram h;
        QCOMPARE(h.percentile(0.5, bounds), -1.0);
        h.add(bucketOf(0, bounds), 3);
        QCOMPARE(h.percentile(0.5, bounds), 0.0);
        h.add(bucketOf(5, bounds), 1); // exact small values
        QCOMPARE(h.percentile(1.0, bounds), 5.0);
        LatencyHistogram big;
        big.add(bucketOf(10'000'000, bounds), 1); // the open last bucket: its lower bound
        QCOMPARE(big.percentile(0.5, bounds), double(bounds.last()));
        h.merge(big);
        QCOMPARE(h.count(), 5);
        h.add(-1, 5); // ignored
        h.add(3, 0);
        QCOMPARE(h.count(), 5);
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    // Every case once on SQLite, then once more on a PostgreSQL server started here (as tst_store).
    return test::execOnBothBackEnds<TestAnalytics>("the analytics", argc, argv);
}
#include "tst_analytics.moc"
