#include "secretscan/regexreverse.h"
#include <algorithm>
#include <cctype>
#include <vector>

namespace gh {

namespace {

struct Reverser {
    std::string_view p;
    size_t i = 0;
    bool ok = true;
    // Inline flags met in a branch ("a(?i)b|c"): in RE2 they hold to the end of the enclosing
    // group, later branches included, so those are wrapped in them too.
    std::vector<std::string> carried;

    [[nodiscard]] bool at(char c) const { return i < p.size() && p[i] == c; }
    [[nodiscard]] bool digitAt(size_t k) const { return k < p.size() && std::isdigit(static_cast<unsigned char>(p[k])); }

    // Branches up to a ')' (not consumed) or the end.
    std::string alternation()
    {
        const size_t outer = carried.size();
        std::string out = sequence();
        while (ok && at('|')) {
            ++i;
            const std::vector<std::string> flags(carried.begin() + std::ptrdiff_t(outer), carried.end());
            std::string branch = sequence();
            for (auto it = flags.rbegin(); it != flags.rend(); ++it)
                branch = "(?" + *it + ":" + branch + ")";
            out += '|';
            out += branch;
        }
        carried.resize(outer); // they end with the group
        return out;
    }

    // "(?flags)" at i: its flags, i moved past it. Only [imsU-] flags.
    bool flagGroup(std::string *flags)
    {
        if (!(i + 2 < p.size() && p[i] == '(' && p[i + 1] == '?'))
            return false;
        size_t k = i + 2;
        while (k < p.size() && std::string_view("imsU-").find(p[k]) != std::string_view::npos)
            ++k;
        if (k == i + 2 || k >= p.size() || p[k] != ')')
            return false;
        *flags = std::string(p.substr(i + 2, k - i - 2));
        i = k + 1;
        return true;
    }

    // One branch: items reversed. An inline "(?i)" applies to the rest of the branch, which is
    // wrapped in "(?i:...)" so that it still applies once the order is reversed.
    std::string sequence()
    {
        std::vector<std::string> items;
        while (ok && i < p.size() && !at('|') && !at(')')) {
            std::string flags;
            if (flagGroup(&flags)) {
                std::string rest = sequence();
                items.push_back("(?" + flags + ":" + rest + ")");
                carried.push_back(flags);
                break;
            }
            std::string a = atom();
            a += quantifier();
            items.push_back(std::move(a));
        }
        std::string out;
        for (auto it = items.rbegin(); it != items.rend(); ++it)
            out += *it;
        return out;
    }

    std::string group()
    {
        // i at '('
        std::string open = "(?:";
        if (p.substr(i, 3) == "(?:") {
            i += 3;
        } else if (p.substr(i, 3) == "(?P" || p.substr(i, 3) == "(?<") {
            const size_t close = p.find('>', i);
            if (close == std::string_view::npos || p.substr(i, 4) == "(?<=" || p.substr(i, 4) == "(?<!") {
                ok = false;
                return {};
            }
            i = close + 1;
        } else if (p.substr(i, 2) == "(?") {
            size_t k = i + 2;
            while (k < p.size() && std::string_view("imsU-").find(p[k]) != std::string_view::npos)
                ++k;
            if (k == i + 2 || k >= p.size() || p[k] != ':') {
                ok = false; // lookaround or something RE2 does not have
                return {};
            }
            open = "(?" + std::string(p.substr(i + 2, k - i - 2)) + ":";
            i = k + 1;
        } else {
            ++i;
        }
        std::string inner = alternation();
        if (!at(')')) {
            ok = false;
            return {};
        }
        ++i;
        return open + inner + ")";
    }

    std::string charClass()
    {
        // i at '['; copied as is up to its closing ']'.
        const size_t start = i++;
        if (at('^'))
            ++i;
        if (at(']'))
            ++i;
        while (i < p.size() && p[i] != ']') {
            if (p[i] == '\\')
                i += 2;
            else if (p.substr(i, 2) == "[:") {
                const size_t close = p.find(":]", i + 2);
                i = close == std::string_view::npos ? p.size() : close + 2;
            } else
                ++i;
        }
        if (i >= p.size()) {
            ok = false;
            return {};
        }
        ++i;
        return std::string(p.substr(start, i - start));
    }

    std::string escape()
    {
        // i at '\'
        if (i + 1 >= p.size()) {
            ok = false;
            return {};
        }
        const char c = p[i + 1];
        i += 2;
        switch (c) {
        case 'A':
            return "\\z";
        case 'z':
            return "\\A";
        case 'Q':
        case 'E':
            ok = false;
            return {};
        case 'x':
        case 'p':
        case 'P': {
            const size_t start = i - 2;
            if (at('{')) {
                const size_t close = p.find('}', i);
                if (close == std::string_view::npos) {
                    ok = false;
                    return {};
                }
                i = close + 1;
            } else {
                i += c == 'x' ? 2 : 1;
                if (i > p.size()) {
                    ok = false;
                    return {};
                }
            }
            return std::string(p.substr(start, i - start));
        }
        default:
            if (std::isdigit(static_cast<unsigned char>(c))) {
                ok = false; // a back reference or an octal escape
                return {};
            }
            return std::string("\\") + c;
        }
    }

    std::string atom()
    {
        const char c = p[i];
        switch (c) {
        case '(':
            return group();
        case '[':
            return charClass();
        case '\\':
            return escape();
        case '^':
            ++i;
            return "$";
        case '$':
            ++i;
            return "^";
        case '*':
        case '+':
        case '?':
            ok = false; // a quantifier without an atom
            return {};
        default:
            ++i;
            return std::string(1, c);
        }
    }

    // "*", "+", "?", "{m}", "{m,}", "{m,n}", each maybe followed by '?'; empty when none.
    std::string quantifier()
    {
        const size_t start = i;
        if (at('*') || at('+') || at('?')) {
            ++i;
        } else if (at('{') && digitAt(i + 1)) {
            size_t k = i + 1;
            while (digitAt(k))
                ++k;
            if (k < p.size() && p[k] == ',') {
                ++k;
                while (digitAt(k))
                    ++k;
            }
            if (k >= p.size() || p[k] != '}')
                return {}; // a literal '{'
            i = k + 1;
        } else {
            return {};
        }
        if (at('?'))
            ++i;
        return std::string(p.substr(start, i - start));
    }
};

} // namespace

std::optional<std::string> reverseRegex(std::string_view pattern)
{
    Reverser r{pattern};
    std::string out = r.alternation();
    if (!r.ok || r.i != pattern.size())
        return std::nullopt;
    return out;
}

} // namespace gh
