#include "postgresserver.h"
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QThread>
#include <QVersionNumber>
#include <libpq-fe.h>
#ifdef Q_OS_UNIX
#include <pwd.h>
#include <signal.h>
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
    if (bin.isEmpty() || !QFileInfo(bin + QStringLiteral("/postgres")).isExecutable()) {
        if (why)
            *why = QStringLiteral("PostgreSQL is not installed (no initdb/postgres under /usr/lib/postgresql/*/bin or "
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
    if (m_running)
        return true;
    // Loopback only; the socket in the cluster's folder; no fsync (a test database).
    QStringList args{m_bin + QStringLiteral("/postgres"), QStringLiteral("-D"), m_data, QStringLiteral("-p"), QString::number(m_port),
                     QStringLiteral("-c"), QStringLiteral("listen_addresses=127.0.0.1"), QStringLiteral("-k"), m_dir->path(),
                     QStringLiteral("-c"), QStringLiteral("fsync=off"), QStringLiteral("-c"), QStringLiteral("synchronous_commit=off"),
                     QStringLiteral("-c"), QStringLiteral("full_page_writes=off"), QStringLiteral("-c"),
                     QStringLiteral("max_connections=200")};
    QString program;
    const bool setpriv = !QStandardPaths::findExecutable(QStringLiteral("setpriv")).isEmpty();
    if (setpriv) {
        QStringList wrap{QStringLiteral("--pdeathsig"), QStringLiteral("KILL")};
        if (m_asNobody)
            wrap += {QStringLiteral("--reuid=nobody"), QStringLiteral("--regid=nogroup"), QStringLiteral("--clear-groups")};
        args = wrap + QStringList{QStringLiteral("--")} + args;
        program = QStringLiteral("setpriv");
    } else if (m_asNobody) {
        args = QStringList{QStringLiteral("-u"), QStringLiteral("nobody"), QStringLiteral("--")} + args;
        program = QStringLiteral("runuser");
    } else {
        program = args.takeFirst();
    }
    m_server = std::make_unique<QProcess>();
    m_server->setProcessChannelMode(QProcess::MergedChannels);
    m_server->setStandardOutputFile(m_dir->filePath(QStringLiteral("server.log")), QIODevice::Append);
    m_server->setWorkingDirectory(m_dir->path());
    m_server->start(program, args);
    if (!m_server->waitForStarted(10'000)) {
        if (error)
            *error = QStringLiteral("cannot start postgres: %1").arg(m_server->errorString());
        return false;
    }
    // Ready when it accepts connections (PQping), for at most 30 s.
    const QByteArray conninfo = QStringLiteral("host=127.0.0.1 port=%1 user=gatehouse dbname=postgres connect_timeout=2")
                                    .arg(m_port)
                                    .toUtf8();
    for (int i = 0; i < 300; ++i) {
        if (PQping(conninfo.constData()) == PQPING_OK) {
            m_running = true;
            return true;
        }
        if (m_server->state() != QProcess::Running)
            break;
        QThread::msleep(100);
    }
    QFile log(m_dir->filePath(QStringLiteral("server.log")));
    QString tail;
    if (log.open(QIODevice::ReadOnly))
        tail = QString::fromLocal8Bit(log.readAll().right(2'000));
    if (error)
        *error = QStringLiteral("postgres did not accept connections on port %1:\n%2").arg(m_port).arg(tail);
    m_server->kill();
    m_server->waitForFinished(5'000);
    return false;
}

bool PostgresServer::stopServer(QString *error)
{
    if (!m_running)
        return true;
    // SIGINT: a fast shutdown (open transactions rolled back, the data kept).
#ifdef Q_OS_UNIX
    ::kill(pid_t(m_server->processId()), SIGINT);
#else
    m_server->terminate();
#endif
    const bool ok = m_server->waitForFinished(30'000);
    if (!ok) {
        if (error)
            *error = QStringLiteral("postgres did not stop within 30 s");
        m_server->kill();
        m_server->waitForFinished(5'000);
    }
    m_running = false;
    return ok;
}

void PostgresServer::stop()
{
    if (m_running) {
#ifdef Q_OS_UNIX
        ::kill(pid_t(m_server->processId()), SIGQUIT); // immediate: the cluster is deleted next
#else
        m_server->terminate();
#endif
        if (!m_server->waitForFinished(10'000)) {
            m_server->kill();
            m_server->waitForFinished(5'000);
        }
        m_running = false;
    }
    m_server.reset();
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
