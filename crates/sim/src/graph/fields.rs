//! The `fields` parameter: `id,name,picture.type(large){url,width}`.
//!
//! Grammar: a comma list of `name`, each optionally followed by `.modifier(arg)` calls and a
//! `{...}` sub-list. Unknown fields are rejected by the node that reads them, as Graph does.

/// One requested field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub name: String,
    pub modifiers: Vec<(String, String)>,
    pub children: Option<Vec<Field>>,
}

#[cfg(test)]
impl Field {
    pub fn modifier(&self, name: &str) -> Option<&str> {
        self.modifiers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a `fields` value; `Err` carries Graph's message.
pub(crate) fn parse(input: &str) -> Result<Vec<Field>, String> {
    let mut parser = Parser {
        chars: input.chars().collect(),
        pos: 0,
    };
    let fields = parser.list()?;
    parser.skip_ws();
    if parser.pos < parser.chars.len() {
        return Err(syntax_error(input));
    }
    Ok(fields)
}

fn syntax_error(input: &str) -> String {
    format!("Syntax error \"Expected end of string instead of more input.\" in fields: {input}")
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn list(&mut self) -> Result<Vec<Field>, String> {
        let mut fields = Vec::new();
        loop {
            self.skip_ws();
            if matches!(self.peek(), None | Some('}')) {
                break;
            }
            fields.push(self.field()?);
            if !self.eat(',') {
                break;
            }
        }
        Ok(fields)
    }

    fn word(&mut self) -> Result<String, String> {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!(
                "Syntax error \"Expected field name\" at character {}",
                self.pos
            ));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn field(&mut self) -> Result<Field, String> {
        let name = self.word()?;
        let mut modifiers = Vec::new();
        while self.eat('.') {
            let modifier = self.word()?;
            if !self.eat('(') {
                return Err(format!("Syntax error \"Expected (\" after {modifier}"));
            }
            let start = self.pos;
            while self.peek().is_some_and(|c| c != ')') {
                self.pos += 1;
            }
            let arg: String = self.chars[start..self.pos].iter().collect();
            if !self.eat(')') {
                return Err("Syntax error \"Expected )\"".to_owned());
            }
            modifiers.push((modifier, arg.trim().to_owned()));
        }
        let children = if self.eat('{') {
            let list = self.list()?;
            if !self.eat('}') {
                return Err("Syntax error \"Expected }\"".to_owned());
            }
            Some(list)
        } else {
            None
        };
        Ok(Field {
            name,
            modifiers,
            children,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_modified_fields() {
        let fields = parse("id, name,picture.type(large){url,width}").unwrap();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[2].name, "picture");
        assert_eq!(fields[2].modifier("type"), Some("large"));
        let children = fields[2].children.as_ref().unwrap();
        assert_eq!(children[0].name, "url");
    }

    #[test]
    fn rejects_unbalanced_braces() {
        assert!(parse("picture{url").is_err());
        assert!(parse("id}").is_err());
    }
}
