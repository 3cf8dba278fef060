//  vars - the rules for config vars: names, values, size, descriptions
//
//  See vars.h. Base64 comes from libcrypto (EVP_EncodeBlock /
//  EVP_DecodeBlock), already a dependency of the daemon.

#include "vars.h"
#include "../common/act_base.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cfg_key_valid (const char *key, char why [CFG_WHY_MAX])
{
    const char *reason = NULL;
    if (!*key)
        reason = "it is empty";
    else if (!(key [0] == '_' || (key [0] >= 'A' && key [0] <= 'Z')
               || (key [0] >= 'a' && key [0] <= 'z')))
        reason = "it must start with a letter or '_'";
    else if (strspn (key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
             != strlen (key))
        reason = "only letters, digits and '_' are allowed";
    else if (strncmp (key, CFG_RESERVED_1, strlen (CFG_RESERVED_1)) == 0)
        reason = "names starting with '" CFG_RESERVED_1 "' are reserved";
    else if (strncmp (key, CFG_RESERVED_2, strlen (CFG_RESERVED_2)) == 0)
        reason = "names starting with '" CFG_RESERVED_2 "' are reserved for dynod";
    if (reason)
        snprintf (why, CFG_WHY_MAX, "%s", reason);
    return reason == NULL;
}

void
cfg_key_shown (const char *key, char out [CFG_SHOWN_MAX])
{
    size_t len = strlen (key);
    if (len < CFG_SHOWN_MAX) {
        memcpy (out, key, len + 1);
        return;
    }
    //  Room for "..." and the NUL; back up over UTF-8 continuation bytes
    //  so the cut never splits a character.
    len = CFG_SHOWN_MAX - 4;
    while (len > 0 && ((unsigned char) key [len] & 0xc0) == 0x80)
        len--;
    memcpy (out, key, len);
    memcpy (out + len, "...", 4);
}

bool
cfg_value_valid (const json_t *value, char why [CFG_WHY_MAX])
{
    const char *reason = NULL;
    if (!json_is_string (value))
        reason = "the value must be a string";
    else if (memchr (json_string_value (value), 0, json_string_length (value)))
        reason = "the value holds a NUL byte";
    if (reason)
        snprintf (why, CFG_WHY_MAX, "%s", reason);
    return reason == NULL;
}

size_t
cfg_vars_size (const json_t *vars)
{
    size_t size = 0;
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value)
        size += strlen (key) + json_string_length (value);
    return size;
}

void
cfg_describe (const char *verb, const json_t *keys, char out [CFG_DESC_MAX])
{
    //  Room kept at the end for ", and NNNNN more config vars".
    const size_t tail = 40;
    size_t n = json_array_size (keys), used = (size_t) snprintf (out, CFG_DESC_MAX, "%s ", verb);
    size_t i;
    for (i = 0; i < n; i++) {
        const char *key = json_string_value (json_array_get (keys, i));
        size_t need = strlen (key) + (i ? 2 : 0);
        if (used + need + tail >= CFG_DESC_MAX)
            break;
        used += (size_t) snprintf (out + used, CFG_DESC_MAX - used, "%s%s", i ? ", " : "", key);
    }
    if (i < n)
        snprintf (out + used, CFG_DESC_MAX - used, "%sand %zu more config vars", i ? ", " : "",
                  n - i);
    else
        snprintf (out + used, CFG_DESC_MAX - used, " config vars");
}

bool
cfg_utf8_valid (const char *s, size_t len)
{
    //  jansson's own check: exactly what json_dumps will accept.
    json_t *probe = json_stringn (s, len);
    json_decref (probe);
    return probe != NULL;
}

//  {"b64": BASE64 of the value's bytes}. Caller owns result.
static json_t *
s_b64_encode (const json_t *value)
{
    size_t len = json_string_length (value);
    unsigned char *text = act_malloc (4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock (text, (const unsigned char *) json_string_value (value), (int) len);
    json_t *encoded = json_pack ("{s:s%}", "b64", (const char *) text, (size_t) n);
    free (text);
    return encoded;
}

//  The bytes of a {"b64": ...} object as a JSON string, or NULL when it is
//  not one. Caller owns result.
static json_t *
s_b64_decode (const json_t *encoded)
{
    const json_t *b64 = json_object_get (encoded, "b64");
    if (!json_is_string (b64) || json_object_size (encoded) != 1)
        return NULL;
    size_t len = json_string_length (b64);
    const char *text = json_string_value (b64);
    if (len % 4)
        return NULL;
    unsigned char *bytes = act_malloc (len / 4 * 3 + 1);
    int n = EVP_DecodeBlock (bytes, (const unsigned char *) text, (int) len);
    json_t *value = NULL;
    if (n >= 0) {
        //  EVP_DecodeBlock counts the bytes the '=' padding stands for.
        size_t size = (size_t) n;
        for (size_t pad = len; pad > 0 && text [pad - 1] == '='; pad--)
            size--;
        value = json_stringn_nocheck ((const char *) bytes, size);
    }
    free (bytes);
    return value;
}

json_t *
cfg_vars_encode (const json_t *vars)
{
    json_t *encoded = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) vars, key, value) {
        if (cfg_utf8_valid (json_string_value (value), json_string_length (value)))
            json_object_set (encoded, key, value);
        else
            json_object_set_new (encoded, key, s_b64_encode (value));
    }
    return encoded;
}

json_t *
cfg_vars_decode (const json_t *encoded)
{
    if (!json_is_object (encoded))
        return NULL;
    json_t *vars = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *) encoded, key, value) {
        json_t *decoded = json_is_string (value) ? json_incref ((json_t *) value) : s_b64_decode (value);
        if (!decoded) {
            json_decref (vars);
            return NULL;
        }
        json_object_set_new (vars, key, decoded);
    }
    return vars;
}
