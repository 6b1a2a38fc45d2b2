#include "postgresserver.h"
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QTcpServer>
#include <QVersionNumber>
#include <libpq-fe.h>
#ifdef Q_OS_UNIX
#include <pwd.h>
#include <unistd.h>
#endif

namespace gh::test {

namespace {

QString binDir()
{
    const QString env = qEnvironmentVariable("GATEHOUSE_PG_BIN");
    if (!env.isEmpty())
        return env;
    // The newest of Debian's versioned folders.
    QDir root(QStringLiteral("/usr/lib/postgresql"));
    QString best;
    QVersionNumber bestVersion;
    for (const QString &v : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QVersionNumber n = QVersionNumber::fromString(v);
        if (QFileInfo(root.filePath(v + QStringLiteral("/bin/initdb"))).isExecutable() && n > bestVersion) {
            bestVersion = n;
            best = root.filePath(v + QStringLiteral("/bin"));
        }
    }
    return best;
}

int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

} // namespace

PostgresServer::PostgresServer() = default;

PostgresServer::~PostgresServer() { stop(); }

bool PostgresServer::installed(QString *why)
{
    const QString bin = binDir();
    if (bin.isEmpty() || !QFileInfo(bin + QStringLiteral("/pg_ctl")).isExecutable()) {
        if (why)
            *why = QStringLiteral("PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin or "
                                  "GATEHOUSE_PG_BIN); install the Debian package `postgresql` (scripts/deps.sh --test)");
        return false;
    }
    return true;
}

bool PostgresServer::run(const QStringList &command, QString *output, int timeoutMs)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    QStringList args = command;
    QString program = args.takeFirst();
    if (m_asNobody) {
        args.prepend(program);
        args = QStringList{QStringLiteral("-u"), QStringLiteral("nobody"), QStringLiteral("--")} + args;
        program = QStringLiteral("runuser");
    }
    p.setWorkingDirectory(m_dir ? m_dir->path() : QDir::tempPath());
    p.start(program, args);
    const bool finished = p.waitForFinished(timeoutMs);
    if (output)
        *output = QString::fromLocal8Bit(p.readAll()).trimmed();
    if (!finished) {
        p.kill();
        p.waitForFinished(2'000);
        return false;
    }
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

bool PostgresServer::start(QString *error)
{
    if (!installed(error))
        return false;
    m_bin = binDir();
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/gatehouse-pg-XXXXXX"));
    if (!m_dir->isValid()) {
        *error = QStringLiteral("cannot create a temporary folder");
        return false;
    }
    m_data = m_dir->filePath(QStringLiteral("data"));
#ifdef Q_OS_UNIX
    if (::geteuid() == 0) {
        // postgres refuses to run as root: the cluster and its folder go to nobody.
        const passwd *nobody = ::getpwnam("nobody");
        if (!nobody || ::chown(QFile::encodeName(m_dir->path()).constData(), nobody->pw_uid, nobody->pw_gid) != 0) {
            *error = QStringLiteral("running as root, and cannot hand the cluster's folder to the user nobody");
            return false;
        }
        m_asNobody = true;
    }
#endif
    QString out;
    if (!run({m_bin + QStringLiteral("/initdb"), QStringLiteral("-D"), m_data, QStringLiteral("-A"), QStringLiteral("trust"),
              QStringLiteral("-U"), QStringLiteral("gatehouse"), QStringLiteral("-E"), QStringLiteral("UTF8"),
              QStringLiteral("--no-sync"), QStringLiteral("--no-instructions")},
             &out)) {
        *error = QStringLiteral("initdb failed: %1").arg(out);
        return false;
    }
    m_port = freePort();
    if (m_port == 0) {
        *error = QStringLiteral("no free loopback port");
        return false;
    }
    return restartServer(error);
}

bool PostgresServer::restartServer(QString *error)
{
    QString out;
    // Loopback only; the socket in the cluster's folder; no fsync (a test database).
    const QString options = QStringLiteral("-p %1 -c listen_addresses=127.0.0.1 -k %2 -c fsync=off -c synchronous_commit=off "
                                           "-c full_page_writes=off -c max_connections=200")
                                .arg(m_port)
                                .arg(m_dir->path());
    if (!run({m_bin + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), m_data, QStringLiteral("-l"),
              m_dir->filePath(QStringLiteral("server.log")), QStringLiteral("-o"), options, QStringLiteral("-w"),
              QStringLiteral("-t"), QStringLiteral("30"), QStringLiteral("start")},
             &out)) {
        QFile log(m_dir->filePath(QStringLiteral("server.log")));
        QString tail;
        if (log.open(QIODevice::ReadOnly))
            tail = QString::fromLocal8Bit(log.readAll().right(2'000));
        if (error)
            *error = QStringLiteral("pg_ctl start failed: %1\n%2").arg(out, tail);
        return false;
    }
    m_running = true;
    return true;
}

bool PostgresServer::stopServer(QString *error)
{
    if (!m_running)
        return true;
    QString out;
    const bool ok = run({m_bin + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), m_data, QStringLiteral("-m"),
                         QStringLiteral("fast"), QStringLiteral("-w"), QStringLiteral("stop")},
                        &out);
    if (!ok && error)
        *error = QStringLiteral("pg_ctl stop failed: %1").arg(out);
    m_running = !ok;
    return ok;
}

void PostgresServer::stop()
{
    if (m_running) {
        QString out;
        run({m_bin + QStringLiteral("/pg_ctl"), QStringLiteral("-D"), m_data, QStringLiteral("-m"), QStringLiteral("immediate"),
             QStringLiteral("-w"), QStringLiteral("stop")},
            &out);
        m_running = false;
    }
    m_dir.reset();
}

QString PostgresServer::url(const QString &database) const
{
    return QStringLiteral("postgres://gatehouse@127.0.0.1:%1/%2").arg(m_port).arg(database);
}

QString PostgresServer::createDatabase(QString *error)
{
    const QString name = QStringLiteral("gh_test_%1").arg(++m_databases);
    PGconn *conn = PQconnectdb(url(QStringLiteral("postgres")).toUtf8().constData());
    QString why;
    bool ok = PQstatus(conn) == CONNECTION_OK;
    if (ok) {
        PGresult *res = PQexec(conn, ("CREATE DATABASE " + name).toUtf8().constData());
        ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            why = QString::fromUtf8(PQresultErrorMessage(res));
        PQclear(res);
    } else {
        why = QString::fromUtf8(PQerrorMessage(conn));
    }
    PQfinish(conn);
    if (!ok) {
        if (error)
            *error = why.trimmed();
        return {};
    }
    return url(name);
}

} // namespace gh::test
