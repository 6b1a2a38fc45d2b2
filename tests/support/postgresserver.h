#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <memory>

namespace gh::test {

// A throwaway PostgreSQL server for the tests: initdb into a temporary folder, then `postgres` on a
// loopback port as a child of the test process, stopped and deleted by the destructor. On Linux the
// server gets SIGKILL when the test process dies (setpriv --pdeathsig), so a crashed or timed-out
// test leaves no server behind. The server refuses to run as root, so when the tests run as root the
// cluster belongs to an unprivileged user ("nobody") instead.
// The binaries are Debian's (/usr/lib/postgresql/<version>/bin), or GATEHOUSE_PG_BIN's folder.
class PostgresServer
{
public:
    PostgresServer();
    ~PostgresServer(); // stop()s

    // Whether initdb and postgres are installed; when not, why (the tests that need them skip with it).
    [[nodiscard]] static bool installed(QString *why = nullptr);

    // Creates the cluster and starts the server. False and *error on failure.
    bool start(QString *error);
    // Stops the server (fast shutdown) and keeps the cluster: start() again on the same port.
    bool stopServer(QString *error = nullptr);
    bool restartServer(QString *error = nullptr);
    void stop(); // stops the server and deletes the cluster

    [[nodiscard]] bool isRunning() const { return m_running; }
    [[nodiscard]] int port() const { return m_port; }
    // A new empty database on the server and its URL (postgres://gatehouse@127.0.0.1:port/name).
    [[nodiscard]] QString createDatabase(QString *error = nullptr);
    [[nodiscard]] QString url(const QString &database) const;

private:
    bool run(const QStringList &command, QString *output, int timeoutMs = 60'000);
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QProcess> m_server;
    QString m_bin;
    QString m_data;
    int m_port = 0;
    int m_databases = 0;
    bool m_running = false;
    bool m_asNobody = false;
};

// A new empty database for a test case: one on `pg`'s server when set (a failure to create it stops
// the test program), else the path of a new SQLite file db<N>/gatehouse.sqlite in `dir` (*n counts).
inline QString freshDatabase(PostgresServer *pg, const QTemporaryDir &dir, int *n)
{
    if (pg) {
        QString error;
        const QString url = pg->createDatabase(&error);
        if (url.isEmpty())
            qFatal("cannot create a test database: %s", qPrintable(error));
        return url;
    }
    return dir.filePath(QStringLiteral("db%1/gatehouse.sqlite").arg(++*n));
}

// Runs the cases of a test class once on SQLite (a `T()`), then once more on a PostgreSQL server
// started here (a `T(&server)`): one suite for both back-ends. Without PostgreSQL installed the second
// run is skipped, saying so; a server that cannot start is a failure. `what` names the suite in those
// messages. Returns the failures of both runs (main()'s exit status).
template <typename T>
int execOnBothBackEnds(const char *what, int argc, char **argv)
{
    int failed = 0;
    {
        T test;
        failed += QTest::qExec(&test, argc, argv);
    }
    QString why;
    if (!PostgresServer::installed(&why)) {
        std::fprintf(stdout, "SKIP: the PostgreSQL run of %s: %s\n", what, qPrintable(why));
        return failed;
    }
    PostgresServer server;
    if (!server.start(&why)) {
        std::fprintf(stderr, "FAIL: cannot start PostgreSQL for %s: %s\n", what, qPrintable(why));
        return failed + 1;
    }
    {
        T test(&server);
        failed += QTest::qExec(&test, argc, argv);
    }
    return failed;
}

} // namespace gh::test
