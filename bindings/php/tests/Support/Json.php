<?php

declare(strict_types=1);

namespace SnapB2B\Tests\Support;

/**
 * JSON for the service-signature tests, independent of the library: a
 * minifier (a byte loop tracking in-string and escape state) and a random
 * document generator that writes each document twice, with random
 * insignificant whitespace and without any.
 */
final class Json
{
    /** Whitespace JSON allows between tokens. */
    private const SPACES = [' ', "\t", "\n", "\r\n", '  ', "\n    "];

    /** Number spellings minification must keep exactly. */
    private const NUMBERS = [
        '0', '-0', '7', '-17', '1.0', '1.0e+2', '1E-7', '2.5E+10', '-3.25e-3', '12345678.00', '0.5',
        '123456789012345678901234567890', '1e400',
    ];

    /** String contents (JSON-escaped already): quotes, slashes, unicode, spaces, separators. */
    private const STRING_PIECES = [
        'plain', ' two  spaces ', '   ', 'say \"hi\"', '\\\\', 'back\\\\slash\\\\', '\/', 'http:\/\/x.y\/z', 'a/b/c',
        "caf\u{e9}", "\u{65e5}\u{672c}\u{8a9e}", "\u{1f600}", 'caf\u00e9', '\ud83d\ude00', '\u0000', '\n', '\t', '\r\n',
        ' : , { } [ ] ', '\"', 'end\\\\', 'Rp 10.000,00', '\b\f', 'IDR',
    ];

    private function __construct()
    {
    }

    /** Removes whitespace outside strings, keeping everything else byte for byte. */
    public static function minify(string $json): string
    {
        $out = '';
        $inString = false;
        $escaped = false;
        $length = strlen($json);
        for ($i = 0; $i < $length; $i++) {
            $c = $json[$i];
            if ($inString) {
                $out .= $c;
                if ($escaped) {
                    $escaped = false;
                } elseif ($c === '\\') {
                    $escaped = true;
                } elseif ($c === '"') {
                    $inString = false;
                }
            } elseif ($c === '"') {
                $inString = true;
                $out .= $c;
            } elseif ($c !== ' ' && $c !== "\t" && $c !== "\n" && $c !== "\r") {
                $out .= $c;
            }
        }
        return $out;
    }

    /**
     * A random document as [with whitespace, without].
     *
     * @return array{0: string, 1: string}
     */
    public static function generate(int $depth = 3): array
    {
        [$spaced, $compact] = self::value($depth, true);
        return [self::space() . $spaced . self::space(), $compact];
    }

    /** @return array{0: string, 1: string} */
    private static function value(int $depth, bool $container = false): array
    {
        $kind = $container ? mt_rand(0, 1) : mt_rand($depth > 0 ? 0 : 2, 5);
        switch ($kind) {
            case 0:
                return self::object($depth);
            case 1:
                return self::arrayValue($depth);
            case 2:
            case 3:
                $string = self::string();
                return [$string, $string];
            case 4:
                $number = self::NUMBERS[mt_rand(0, count(self::NUMBERS) - 1)];
                return [$number, $number];
            default:
                $literal = ['true', 'false', 'null'][mt_rand(0, 2)];
                return [$literal, $literal];
        }
    }

    /** @return array{0: string, 1: string} */
    private static function object(int $depth): array
    {
        $spaced = '{' . self::space();
        $compact = '{';
        $count = mt_rand(0, 5);
        for ($i = 0; $i < $count; $i++) {
            if ($i > 0) {
                $spaced .= ',' . self::space();
                $compact .= ',';
            }
            $key = self::string();
            [$valueSpaced, $valueCompact] = self::value($depth - 1);
            $spaced .= $key . self::space() . ':' . self::space() . $valueSpaced . self::space();
            $compact .= $key . ':' . $valueCompact;
        }
        return [$spaced . '}', $compact . '}'];
    }

    /** @return array{0: string, 1: string} */
    private static function arrayValue(int $depth): array
    {
        $spaced = '[' . self::space();
        $compact = '[';
        $count = mt_rand(0, 5);
        for ($i = 0; $i < $count; $i++) {
            if ($i > 0) {
                $spaced .= self::space() . ',' . self::space();
                $compact .= ',';
            }
            [$valueSpaced, $valueCompact] = self::value($depth - 1);
            $spaced .= $valueSpaced;
            $compact .= $valueCompact;
        }
        return [$spaced . self::space() . ']', $compact . ']'];
    }

    private static function string(): string
    {
        $text = '';
        for ($i = mt_rand(0, 4); $i > 0; $i--) {
            $text .= self::STRING_PIECES[mt_rand(0, count(self::STRING_PIECES) - 1)];
        }
        return '"' . $text . '"';
    }

    private static function space(): string
    {
        return mt_rand(0, 2) === 0 ? '' : self::SPACES[mt_rand(0, count(self::SPACES) - 1)];
    }
}
