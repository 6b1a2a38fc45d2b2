// libpq, loaded when the first team-store connection is opened rather than when the process starts.
//
// Linked at start, libpq brings its own dependency tree (GnuTLS through libldap, with p11-kit,
// Nettle, GMP, libtasn1, libunistring; Kerberos and SASL through GSSAPI), whose pages and
// constructors (GnuTLS and p11-kit initialise themselves at load) cost a gateway on the SQLite store
// about 4 MB of RSS for a library it never calls (BENCHMARKS.md, "Memory after 1M requests").
// So on Linux the store's calls land here: each function has libpq's own signature (checked against
// libpq-fe.h, included below), loads libpq once with dlopen (thread-safe: a function-local static)
// and forwards to it. When libpq cannot be loaded, a connection fails like an unreachable server
// (PQconnectdb* return null, PQstatus says CONNECTION_BAD) and PQerrorMessage says why, so the
// team store answers "cannot connect to ...: the PostgreSQL client library ... could not be loaded"
// and the SQLite store is unaffected. The functions are the ones app/store uses; a new PQ call there
// fails to link until it is added to GH_PQ_FUNCTIONS, never silently.
//
// dlsym on libpq's own handle resolves within libpq and its dependencies, never in the executable,
// so these forwarders cannot call themselves; where libpq is also linked normally (the tests'
// support library), dlopen returns that same copy.
#ifdef GATEHOUSE_LAZY_LIBPQ

#include <libpq-fe.h>

#include <dlfcn.h>
#include <string>

namespace {

#define GH_PQ_FUNCTIONS(X)                                                                                             \
    X(PQconnectdb)                                                                                                     \
    X(PQconnectdbParams)                                                                                               \
    X(PQfinish)                                                                                                        \
    X(PQreset)                                                                                                         \
    X(PQstatus)                                                                                                        \
    X(PQerrorMessage)                                                                                                  \
    X(PQsocket)                                                                                                        \
    X(PQbackendPID)                                                                                                    \
    X(PQsetNoticeProcessor)                                                                                            \
    X(PQexec)                                                                                                          \
    X(PQexecParams)                                                                                                    \
    X(PQconsumeInput)                                                                                                  \
    X(PQnotifies)                                                                                                      \
    X(PQping)                                                                                                          \
    X(PQresultStatus)                                                                                                  \
    X(PQresultErrorMessage)                                                                                            \
    X(PQresultErrorField)                                                                                              \
    X(PQntuples)                                                                                                       \
    X(PQnfields)                                                                                                       \
    X(PQcmdTuples)                                                                                                     \
    X(PQgetvalue)                                                                                                      \
    X(PQgetisnull)                                                                                                     \
    X(PQclear)                                                                                                         \
    X(PQfreemem)

struct Libpq {
#define GH_PQ_POINTER(name) decltype(&::name) name = nullptr;
    GH_PQ_FUNCTIONS(GH_PQ_POINTER)
#undef GH_PQ_POINTER
    bool ok = false;
    // Ends with a newline, as libpq's own messages do (callers trim).
    std::string error;
};

const Libpq &libpq()
{
    static const Libpq lib = [] {
        Libpq l;
        // libpq's ABI major version has been 5 since PostgreSQL 8.0.
        void *handle = dlopen(GATEHOUSE_LIBPQ_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char *why = dlerror();
            l.error = std::string("the PostgreSQL client library (" GATEHOUSE_LIBPQ_SONAME ") could not be loaded: ")
                + (why ? why : "unknown error") + '\n';
            return l;
        }
        std::string missing;
#define GH_PQ_RESOLVE(name)                                                                                            \
    l.name = reinterpret_cast<decltype(l.name)>(dlsym(handle, #name));                                                 \
    if (!l.name)                                                                                                       \
        missing += (missing.empty() ? "" : ", ") + std::string(#name);
        GH_PQ_FUNCTIONS(GH_PQ_RESOLVE)
#undef GH_PQ_RESOLVE
        if (!missing.empty()) {
            // Kept loaded (unloading a library that ran its constructors is not worth the risk).
            l = Libpq{};
            l.error = "the PostgreSQL client library (" GATEHOUSE_LIBPQ_SONAME ") lacks " + missing + '\n';
            return l;
        }
        l.ok = true;
        return l;
    }();
    return lib;
}

} // namespace

extern "C" {

PGconn *PQconnectdb(const char *conninfo)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQconnectdb(conninfo) : nullptr;
}

PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQconnectdbParams(keywords, values, expand_dbname) : nullptr;
}

void PQfinish(PGconn *conn)
{
    const Libpq &l = libpq();
    if (l.ok)
        l.PQfinish(conn);
}

void PQreset(PGconn *conn)
{
    const Libpq &l = libpq();
    if (l.ok)
        l.PQreset(conn);
}

ConnStatusType PQstatus(const PGconn *conn)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQstatus(conn) : CONNECTION_BAD;
}

char *PQerrorMessage(const PGconn *conn)
{
    const Libpq &l = libpq();
    // libpq's signature returns char *; nobody writes to it.
    return l.ok ? l.PQerrorMessage(conn) : const_cast<char *>(l.error.c_str());
}

int PQsocket(const PGconn *conn)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQsocket(conn) : -1;
}

int PQbackendPID(const PGconn *conn)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQbackendPID(conn) : 0;
}

PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQsetNoticeProcessor(conn, proc, arg) : nullptr;
}

PGresult *PQexec(PGconn *conn, const char *query)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQexec(conn, query) : nullptr;
}

PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
    const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat)
{
    const Libpq &l = libpq();
    return l.ok
        ? l.PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat)
        : nullptr;
}

int PQconsumeInput(PGconn *conn)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQconsumeInput(conn) : 0;
}

PGnotify *PQnotifies(PGconn *conn)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQnotifies(conn) : nullptr;
}

PGPing PQping(const char *conninfo)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQping(conninfo) : PQPING_NO_ATTEMPT;
}

ExecStatusType PQresultStatus(const PGresult *res)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQresultStatus(res) : PGRES_FATAL_ERROR;
}

char *PQresultErrorMessage(const PGresult *res)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQresultErrorMessage(res) : const_cast<char *>(l.error.c_str());
}

char *PQresultErrorField(const PGresult *res, int fieldcode)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQresultErrorField(res, fieldcode) : nullptr;
}

int PQntuples(const PGresult *res)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQntuples(res) : 0;
}

int PQnfields(const PGresult *res)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQnfields(res) : 0;
}

char *PQcmdTuples(PGresult *res)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQcmdTuples(res) : const_cast<char *>("");
}

char *PQgetvalue(const PGresult *res, int tup_num, int field_num)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQgetvalue(res, tup_num, field_num) : const_cast<char *>("");
}

int PQgetisnull(const PGresult *res, int tup_num, int field_num)
{
    const Libpq &l = libpq();
    return l.ok ? l.PQgetisnull(res, tup_num, field_num) : 1;
}

void PQclear(PGresult *res)
{
    const Libpq &l = libpq();
    if (l.ok)
        l.PQclear(res);
}

void PQfreemem(void *ptr)
{
    const Libpq &l = libpq();
    if (l.ok)
        l.PQfreemem(ptr);
}

} // extern "C"

#endif // GATEHOUSE_LAZY_LIBPQ
